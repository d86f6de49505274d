/**
 * The identity-provider vendors' SCIM 2.0 suites against the sample app as it runs: `startSample` on
 * a fresh SQLite file, the TypeORM directory store, the demo directory's token. The suites are
 * third-party data kept outside the repository (`../shared/scim-suites` from the repository root, or
 * SCIM_SUITES_DIR); without them these tests are skipped with a message.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startSample, type Sample } from '../src/index.js';

const suitesDir =
  process.env['SCIM_SUITES_DIR'] ?? resolve(import.meta.dirname, '../../../../shared/scim-suites');
const microsoftCollection = join(suitesDir, 'azuread-scimreferencecode-PostmanCollection.json');
const oktaSuite = join(suitesDir, 'okta-Okta-SCIM-20-SPEC-Test.json');
const suitesAbsent = !existsSync(microsoftCollection) || !existsSync(oktaSuite);
// On a developer's machine without the suites they are skipped with a message; in CI (CI=true) a
// missing suite is a failure, so that a green run always means the suites ran.
const skipSuites = suitesAbsent && !process.env['CI'];
if (skipSuites) {
  console.log(
    `Skipping the vendors' SCIM suites: ${suitesDir} is absent or incomplete (set SCIM_SUITES_DIR to run them).`,
  );
}

function requireSuites(): void {
  if (suitesAbsent)
    throw new Error(
      `The vendors' SCIM suites are missing from ${suitesDir} (set SCIM_SUITES_DIR); CI requires them.`,
    );
}

/** The folders of Microsoft's collection that test a SCIM server (the others need Azure AD itself). */
const MICROSOFT_FOLDERS = [
  'Endpoint tests',
  'User tests',
  'Group tests',
  'ComplexAttribute tests',
  'User tests with garbage',
  'Group tests with garbage',
  'Teardown garbage',
];
const MICROSOFT_ASSERTIONS = 103;
const OKTA_ASSERTIONS = 52;
const TOKEN = 'vendor-suites-demo-token-0123456789ab';

interface NewmanFailure {
  error: { name?: string; test?: string; message?: string };
  source?: { name?: string };
}
interface NewmanSummary {
  run: { stats: { assertions: { total?: number; failed?: number } }; failures: NewmanFailure[] };
}
const newman = createRequire(import.meta.url)('newman') as {
  run(
    options: Record<string, unknown>,
    callback: (error: Error | null, summary: NewmanSummary) => void,
  ): void;
};

const work = mkdtempSync(join(tmpdir(), 'jit-sample-scim-suites-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A sample on its own empty database: the suites expect an empty directory at the start. */
function startOnFreshDatabase(name: string): Promise<Sample> {
  return startSample({ port: 0, databaseUrl: `sqlite:${join(work, `${name}.sqlite`)}`, scimToken: TOKEN });
}

describe("the identity-provider vendors' SCIM suites against the sample app (SQLite, TypeORM store)", () => {
  it.skipIf(skipSuites)(
    `passes all ${MICROSOFT_ASSERTIONS} assertions of Microsoft's SCIM Postman collection (newman)`,
    async () => {
      requireSuites();
      const sample = await startOnFreshDatabase('microsoft');
      try {
        const environment = join(work, 'microsoft-env.json');
        writeFileSync(
          environment,
          JSON.stringify({
            name: 'jit-sample',
            values: [
              { key: 'Protocol', value: 'http', enabled: true },
              { key: 'Server', value: '127.0.0.1', enabled: true },
              { key: 'Port', value: `:${sample.port}`, enabled: true },
              { key: 'Api', value: 'scim/v2', enabled: true },
              { key: 'token', value: sample.scim.token, enabled: true },
            ],
          }),
        );
        const summary = await new Promise<NewmanSummary>((done, fail) => {
          newman.run(
            { collection: microsoftCollection, environment, folder: MICROSOFT_FOLDERS, reporters: [] },
            (error, result) => (error ? fail(error) : done(result)),
          );
        });
        const failures = summary.run.failures.map(
          (f) => `${f.source?.name ?? '?'}: ${f.error.test ?? f.error.name ?? ''} (${f.error.message ?? ''})`,
        );
        const { total = 0, failed = 0 } = summary.run.stats.assertions;
        expect(failures, `failed assertions:\n${failures.join('\n')}`).toEqual([]);
        expect({ total, passed: total - failed }).toEqual({
          total: MICROSOFT_ASSERTIONS,
          passed: MICROSOFT_ASSERTIONS,
        });
      } finally {
        await sample.close();
      }
    },
    120_000,
  );

  it.skipIf(skipSuites)(
    `passes all ${OKTA_ASSERTIONS} assertions of Okta's SCIM 2.0 spec test`,
    async () => {
      requireSuites();
      const sample = await startOnFreshDatabase('okta');
      try {
        const base = `${sample.url}/scim/v2`;
        // The suite reads the first user of the directory: it needs one to exist.
        const seeded = await fetch(`${base}/Users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sample.scim.token}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({
            userName: 'seed@acme.test',
            name: { givenName: 'Seed', familyName: 'User' },
            emails: [{ value: 'seed@acme.test', primary: true, type: 'work' }],
            active: true,
          }),
        });
        expect(seeded.status).toBe(201);

        let output: string;
        try {
          ({ stdout: output } = await promisify(execFile)(
            process.execPath,
            [
              join(suitesDir, 'run-runscope.mjs'),
              oktaSuite,
              join(suitesDir, 'okta-Initial_Script_Spec.txt'),
              base,
              `Bearer ${sample.scim.token}`,
            ],
            { encoding: 'utf8' },
          ));
        } catch (error) {
          // The runner exits with 1 when an assertion fails; its report is still on stdout.
          output = (error as { stdout?: string }).stdout ?? String(error);
        }
        const failures: string[] = [];
        let request = '';
        for (const line of output.split('\n')) {
          if (line.startsWith('# ')) request = line.slice(2);
          else if (/^\s*(FAIL|REQ FAIL|\?)/.test(line)) failures.push(`${request}: ${line.trim()}`);
        }
        expect(failures, `failed assertions:\n${failures.join('\n')}`).toEqual([]);
        const counts = /(\d+) requests; (\d+) passed, (\d+) failed/.exec(output);
        expect(counts, output).not.toBeNull();
        expect({ passed: Number(counts![2]), failed: Number(counts![3]) }).toEqual({
          passed: OKTA_ASSERTIONS,
          failed: 0,
        });
      } finally {
        await sample.close();
      }
    },
    120_000,
  );
});
