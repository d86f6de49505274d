import { isJitError } from '@jit-sso/core';
import { startSample } from './start.js';

// `npm start`: the sample app on PORT (default 3000), the local identity providers on the next free
// port, the database at DATABASE_URL (default SQLite), migrated at start.
const env = process.env;
const redact = (url: string) => url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
const port = env['PORT'] ? Number(env['PORT']) : 3000;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, not "${env['PORT']}".`);
  process.exit(1);
}

try {
  const sample = await startSample({
    port,
    ...(env['DATABASE_URL'] ? { databaseUrl: env['DATABASE_URL'] } : {}),
    ...(env['JIT_SAMPLE_CONFIG'] ? { configPath: env['JIT_SAMPLE_CONFIG'] } : {}),
    ...(env['JIT_DEMO_SCIM_TOKEN'] ? { scimToken: env['JIT_DEMO_SCIM_TOKEN'] } : {}),
  });
  const lines = [
    `jit-sso sample (Express) at ${sample.url}`,
    `  database        ${redact(sample.databaseUrl)}${sample.migrations.length ? ` (applied ${sample.migrations.length} migrations)` : ''}`,
    ...sample.connections.map((c) => `  sign in         ${sample.url}/auth/${c.protocol}/${c.id}/login`),
  ];
  if (sample.idp) {
    lines.push(`  local IdPs      ${sample.idp.url}  (people admin: ${sample.idp.url}/admin)`);
  }
  if (sample.scim) {
    lines.push(
      `  SCIM base URL   ${sample.url}/scim/v2`,
      `  SCIM token      ${sample.scim.token}  (tenant ${sample.scim.tenantId})`,
    );
  }
  lines.push('Press Ctrl-C to stop.');
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    sample.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (error) {
  if (isJitError(error)) {
    console.error(error.message);
    if (error.code !== 'INVALID_CONFIGURATION') console.error(error.hint);
  } else {
    console.error(error);
  }
  process.exit(1);
}
