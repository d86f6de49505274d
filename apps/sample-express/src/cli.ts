import { isJitError } from '@jit-sso/core';
import { redact } from './shared-state.js';
import type { Sample, SampleOptions } from './start.js';

/**
 * `npm start`: reads `PORT`, `PUBLIC_URL`, `DATABASE_URL`, `REDIS_URL`, `SESSION_SECRET`, `JIT_DEMO_SCIM_TOKEN` and `JIT_SAMPLE_CONFIG`, starts a
 * sample, prints where everything is, and stops it cleanly on Ctrl-C (SIGINT) or SIGTERM.
 */
export async function runFromEnvironment(
  name: string,
  start: (options: SampleOptions) => Promise<Sample>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const port = env['PORT'] ? Number(env['PORT']) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a port number, not "${env['PORT']}".`);
    process.exit(1);
  }
  let sample: Sample;
  try {
    sample = await start({
      port,
      ...(env['PUBLIC_URL'] ? { publicUrl: env['PUBLIC_URL'] } : {}),
      ...(env['DATABASE_URL'] ? { databaseUrl: env['DATABASE_URL'] } : {}),
      ...(env['REDIS_URL'] ? { redisUrl: env['REDIS_URL'] } : {}),
      ...(env['SESSION_SECRET'] ? { sessionSecret: env['SESSION_SECRET'] } : {}),
      ...(env['JIT_SAMPLE_CONFIG'] ? { configPath: env['JIT_SAMPLE_CONFIG'] } : {}),
      ...(env['JIT_DEMO_SCIM_TOKEN'] ? { scimToken: env['JIT_DEMO_SCIM_TOKEN'] } : {}),
    });
  } catch (error) {
    if (isJitError(error)) {
      console.error(error.message);
      if (error.code !== 'INVALID_CONFIGURATION') console.error(error.hint);
    } else {
      console.error(error);
    }
    process.exit(1);
  }
  const lines = [
    `jit-sso sample (${name}) at ${sample.url}`,
    `  database        ${redact(sample.databaseUrl)}${sample.migrations.length ? ` (applied ${sample.migrations.length} migrations)` : ''}`,
    ...(env['REDIS_URL']
      ? [`  redis           ${redact(env['REDIS_URL'])} (sessions and replay cache)`]
      : []),
    ...sample.connections.map((c) => `  sign in         ${sample.url}/auth/${c.protocol}/${c.id}/login`),
  ];
  if (sample.idp) lines.push(`  local IdPs      ${sample.idp.url}  (people admin: ${sample.idp.url}/admin)`);
  lines.push(
    `  SCIM base URL   ${sample.url}/scim/v2`,
    `  SCIM token      ${sample.scim.token}  (tenant ${sample.scim.tenantId})`,
  );
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
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
