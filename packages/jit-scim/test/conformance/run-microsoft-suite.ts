/**
 * Runs Microsoft's SCIM Postman collection (AzureAD/SCIMReferenceCode) with newman against the
 * service mounted in Express on a memory store. The collection is third-party data kept outside the
 * repository (`../shared/scim-suites`, or SCIM_SUITES_DIR); without it the run is skipped with a message.
 *
 *   npm run conformance -w @jit-sso/scim
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { startScimServer } from './server.js';

const FOLDERS = [
  'Endpoint tests',
  'User tests',
  'Group tests',
  'ComplexAttribute tests',
  'User tests with garbage',
  'Group tests with garbage',
  'Teardown garbage',
];
const EXPECTED_ASSERTIONS = 103;

interface NewmanSummary {
  run: { stats: { assertions: { total?: number; failed?: number } }; failures: unknown[] };
}
const newman = createRequire(import.meta.url)('newman') as {
  run(
    options: Record<string, unknown>,
    callback: (error: Error | null, summary: NewmanSummary) => void,
  ): void;
};

const dir =
  process.env['SCIM_SUITES_DIR'] ?? resolve(import.meta.dirname, '../../../../../shared/scim-suites');
const collection = join(dir, 'azuread-scimreferencecode-PostmanCollection.json');
if (!existsSync(collection)) {
  console.log(`Skipping Microsoft's SCIM suite: ${collection} is absent (set SCIM_SUITES_DIR to run it).`);
  process.exit(process.env['CI'] ? 1 : 0);
}

const server = await startScimServer();
const environment = join(mkdtempSync(join(tmpdir(), 'scim-suite-')), 'env.json');
writeFileSync(
  environment,
  JSON.stringify({
    name: 'jit-scim',
    values: [
      { key: 'Protocol', value: 'http', enabled: true },
      { key: 'Server', value: '127.0.0.1', enabled: true },
      { key: 'Port', value: `:${server.port}`, enabled: true },
      { key: 'Api', value: 'scim/v2', enabled: true },
      { key: 'token', value: server.token, enabled: true },
    ],
  }),
);

const summary = await new Promise<NewmanSummary>((done, fail) => {
  newman.run({ collection, environment, folder: FOLDERS, reporters: ['cli'] }, (error, result) =>
    error ? fail(error) : done(result),
  );
});
await server.close();

const { total, failed } = summary.run.stats.assertions;
const passed = (total ?? 0) - (failed ?? 0);
console.log(`Microsoft SCIM suite: ${passed}/${total} assertions passed.`);
if (failed || summary.run.failures.length || total !== EXPECTED_ASSERTIONS) {
  console.error(`Expected all ${EXPECTED_ASSERTIONS} assertions to pass.`);
  process.exit(1);
}
