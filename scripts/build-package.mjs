// Builds the package in the current directory twice with tsc: ES modules in dist/esm from
// tsconfig.lib.json and CommonJS in dist/cjs from tsconfig.cjs.json, each with its declarations. The
// package is `"type": "module"`, so dist/cjs gets a package.json of its own that makes Node and
// TypeScript read its .js and .d.ts files as CommonJS. tsc (not a bundler) keeps Nest's decorator
// metadata.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const config of ['tsconfig.lib.json', 'tsconfig.cjs.json']) {
  const build = spawnSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
writeFileSync('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
