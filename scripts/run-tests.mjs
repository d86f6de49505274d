// The whole check: Prettier's format check, then typecheck, lint, test and the API report check (`api`,
// see scripts/api-report.mjs) of every project through Nx (no daemon, no cloud), then one closing line
// `N passed, N failed` summed from the Vitest reports of every project.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('reports', { recursive: true, force: true });
const format = spawnSync('npx', ['prettier', '--check', '.', '--log-level', 'warn'], { stdio: 'inherit' });
if (format.status !== 0) console.error('Formatting differs from Prettier: run `npm run format`.');
const nx = spawnSync(
  'npx',
  [
    'nx',
    'run-many',
    '-t',
    'typecheck',
    'lint',
    'test',
    'api',
    '--outputStyle=stream',
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } },
);
const summary = spawnSync('node', ['scripts/test-summary.mjs'], { stdio: 'inherit' });
process.exit(format.status !== 0 ? 1 : nx.status !== 0 ? nx.status || 1 : (summary.status ?? 1));
