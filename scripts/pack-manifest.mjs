// npm runs this in a package's directory before packing it (prepack) and after (postpack, with
// --restore). The packed package.json loses its `source` export conditions: they point at the
// TypeScript sources for the workspace's own tests and tools (Vite, tsx --conditions=source), and an
// app that sets a condition of the same name would load .ts files from node_modules. The workspace's
// package.json is kept aside and put back after packing. Packing without a build fails here rather
// than publishing a package without its dist.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const manifest = 'package.json';
const kept = '.package.json.workspace';

if (process.argv.includes('--restore')) {
  if (existsSync(kept)) renameSync(kept, manifest);
  process.exit(0);
}

for (const built of ['dist/esm/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json']) {
  if (!existsSync(built)) {
    console.error(`${built} is missing: build the package before packing it (npm run build).`);
    process.exit(1);
  }
}

const text = readFileSync(manifest, 'utf8');
const pkg = JSON.parse(text);
const withoutSource = (value) => {
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([condition]) => condition !== 'source')
      .map(([key, inner]) => [key, withoutSource(inner)]),
  );
};
pkg.exports = withoutSource(pkg.exports);
if (!existsSync(kept)) writeFileSync(kept, text);
writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
