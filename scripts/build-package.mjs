// Builds the package in the current directory twice with tsc: ES modules in dist/esm from
// tsconfig.lib.json and CommonJS in dist/cjs from tsconfig.cjs.json, each with its declarations. The
// package is `"type": "module"`, so dist/cjs gets a package.json of its own that makes Node and
// TypeScript read its .js and .d.ts files as CommonJS. tsc (not a bundler) keeps Nest's decorator
// metadata. CommonJS has no `import.meta`: in dist/cjs, `import.meta.url` (which a module uses to find
// a file it ships beside itself, behind a `@ts-ignore`) becomes the URL of the file itself.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const config of ['tsconfig.lib.json', 'tsconfig.cjs.json']) {
  const build = spawnSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
writeFileSync('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);

const FILE_URL = 'require("node:url").pathToFileURL(__filename).href';
for (const entry of readdirSync('dist/cjs', { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
  const file = join(entry.parentPath, entry.name);
  const code = readFileSync(file, 'utf8');
  if (code.includes('import.meta.url')) writeFileSync(file, code.replaceAll('import.meta.url', FILE_URL));
}
