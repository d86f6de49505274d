/**
 * Runs Okta's SCIM 2.0 spec test (a Runscope export, with the runner kept beside it in
 * `../shared/scim-suites`, or SCIM_SUITES_DIR) against the service in Express on a memory store,
 * seeded with the one user the suite needs. Skipped with a message when the suite is absent.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startScimServer } from './server.js';

const dir =
  process.env['SCIM_SUITES_DIR'] ?? resolve(import.meta.dirname, '../../../../../shared/scim-suites');
const suite = join(dir, 'okta-Okta-SCIM-20-SPEC-Test.json');
if (!existsSync(suite)) {
  console.log(`Skipping Okta's SCIM suite: ${suite} is absent (set SCIM_SUITES_DIR to run it).`);
  process.exit(process.env['CI'] ? 1 : 0);
}

const server = await startScimServer();
const seeded = await fetch(`${server.url}/Users`, {
  method: 'POST',
  headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/scim+json' },
  body: JSON.stringify({
    userName: 'seed@example.com',
    name: { givenName: 'Seed', familyName: 'User' },
    emails: [{ value: 'seed@example.com', primary: true, type: 'work' }],
    active: true,
  }),
});
if (seeded.status !== 201) throw new Error(`Seeding the suite's user answered ${seeded.status}.`);

let output = '';
let failed = false;
try {
  const result = await promisify(execFile)(
    process.execPath,
    [
      join(dir, 'run-runscope.mjs'),
      suite,
      join(dir, 'okta-Initial_Script_Spec.txt'),
      server.url,
      `Bearer ${server.token}`,
    ],
    { encoding: 'utf8' },
  );
  output = result.stdout;
} catch (error) {
  output = (error as { stdout?: string }).stdout ?? String(error);
  failed = true;
}
await server.close();
console.log(output);
const summary = /(\d+) requests; (\d+) passed, (\d+) failed/.exec(output);
if (failed || !summary || summary[3] !== '0') {
  console.error("Okta's SCIM suite did not pass.");
  process.exit(1);
}
console.log(`Okta SCIM suite: ${summary[2]}/${Number(summary[2]) + Number(summary[3])} assertions passed.`);
