// The API report of a package: every entry point of its package.json `exports` (each named by its
// `source` condition), as API Extractor reads it from the declarations tsc emits, recorded in
// `<package>/api/<name>.api.md`. Committed reports make every change to a public surface visible in
// review. The `api` target of each package (nx.json, `nx run-many -t api`, part of `npm test`) fails
// when a report differs from the code; `npm run api:update` rewrites the reports.
//
//   node scripts/api-report.mjs [--update] [<package folder>...]   (default: every package with an `api` target)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = resolve(import.meta.dirname, '..');
const update = process.argv.includes('--update');
const named = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const packages = (named.length ? named : packagesWithApiTarget()).map((folder) => resolve(root, folder));

/**
 * The declaration file tsc emits for an entry point's source (`./src/testing/index.ts` →
 * `<declarations>/testing/index.d.ts`): the one place that knows how sources map to declarations.
 * Declarations are emitted into a scratch folder of their own, whatever the build's `dist` layout.
 */
function declarationOf(declarations, source) {
  return join(declarations, relative('src', source).replace(/\.ts$/, '.d.ts'));
}

function packagesWithApiTarget() {
  return readdirSync(join(root, 'packages'))
    .map((name) => join('packages', name))
    .filter((folder) => {
      const project = join(root, folder, 'project.json');
      return existsSync(project) && JSON.parse(readFileSync(project, 'utf8')).targets?.api !== undefined;
    });
}

/** `{ name, source }` per entry: `@jit-sso/core` `.` → `core`, `./testing` → `core-testing`. */
function entryPoints(manifest) {
  const unscoped = manifest.name.replace(/^@[^/]+\//, '');
  // `./package.json` is exported as a file for tools, not as code.
  const code = Object.entries(manifest.exports ?? { '.': { source: './src/index.ts' } }).filter(
    ([subpath]) => subpath !== './package.json',
  );
  return code.map(([subpath, target]) => {
    if (typeof target?.source !== 'string')
      throw new Error(`${manifest.name}: export "${subpath}" has no "source" condition.`);
    const suffix = subpath === '.' ? '' : '-' + subpath.replace(/^\.\//, '').replaceAll('/', '-');
    return { name: unscoped + suffix, source: target.source };
  });
}

/** Emits the package's declarations (its build's compiler settings) into `declarations`. */
function emitDeclarations(folder, declarations) {
  const tsc = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      ...['-p', join(folder, 'tsconfig.lib.json'), '--outDir', declarations],
      ...['--emitDeclarationOnly', '--declarationMap', 'false', '--sourceMap', 'false'],
    ],
    { stdio: 'inherit' },
  );
  if (tsc.status !== 0) throw new Error(`tsc could not emit the declarations of ${relative(root, folder)}.`);
}

function report(folder) {
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
  // Inside the package, so that the declarations resolve its dependencies (nested versions included)
  // as its sources do; `tmp/` is ignored by git, and so by Prettier and Nx. Not under node_modules:
  // API Extractor would take the declarations for another package's.
  const scratch = join(folder, 'tmp', 'api-report');
  const declarations = join(scratch, 'declarations');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  if (update) mkdirSync(join(folder, 'api'), { recursive: true });
  const base = ExtractorConfig.loadFile(join(root, 'api-extractor.json'));
  let failed = false;
  try {
    emitDeclarations(folder, declarations);
    for (const entry of entryPoints(manifest)) {
      const mainEntryPointFilePath = declarationOf(declarations, entry.source);
      const config = ExtractorConfig.prepare({
        configObject: {
          ...base,
          projectFolder: folder,
          mainEntryPointFilePath,
          apiReport: {
            ...base.apiReport,
            reportFileName: entry.name,
            reportFolder: join(folder, 'api'),
            reportTempFolder: join(scratch, 'report'),
          },
          compiler: {
            // Other packages are read from their builds' declarations (the api target builds them
            // first), not from their sources: API Extractor analyses declarations only.
            overrideTsconfig: {
              extends: join(root, 'tsconfig.base.json'),
              compilerOptions: { customConditions: [] },
              files: [mainEntryPointFilePath],
            },
          },
        },
        configObjectFullPath: undefined,
        packageJsonFullPath: join(folder, 'package.json'),
      });
      const result = Extractor.invoke(config, {
        localBuild: update,
        printApiReportDiff: true,
        messageCallback: quietReportNotices,
      });
      const file = relative(root, config.reportFilePath);
      if (!result.succeeded) {
        failed = true;
        console.error(
          result.errorCount > 0
            ? `${file}: API Extractor reported ${result.errorCount} error(s) (above).`
            : `${file} does not match the public API of ${manifest.name}${entry.name.includes('-') ? ` (${entry.source})` : ''}. ` +
                'If the change is intended, run `npm run api:update` and commit the report.',
        );
      } else if (update && result.apiReportChanged) console.log(`updated ${file}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (readdirSync(dirname(scratch)).length === 0) rmdirSync(dirname(scratch));
  }
  return !failed;
}

/** API Extractor's advice on a changed report names its scratch folder; this script says what to run. */
function quietReportNotices(message) {
  if (message.messageId === 'console-api-report-not-copied') message.handled = true;
}

let ok = true;
for (const folder of packages) ok = report(folder) && ok;
process.exit(ok ? 0 : 1);
