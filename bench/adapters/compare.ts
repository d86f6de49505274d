/**
 * The same SAML login and the same signed-in request through the three adapters: the e2e suite's
 * Express, NestJS and Koa apps on one store, one IdP and one replay cache. Times the ACS POST of a
 * returning user's signed response (until the 303 that sets the session cookie) and `GET /me` with
 * that session (the session guard re-reads the user from the store on every request).
 *
 *   node --conditions=source --import tsx bench/adapters/compare.ts [--logins=200] [--requests=2000] [--cache=redis|memory]
 *   (run from the repository root, with TSX_TSCONFIG_PATH=bench/adapters/tsconfig.json)
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createProvisioner, type ConnectionInput } from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormDirectoryStore } from '@jit-sso/typeorm';
import { createScimService } from '@jit-sso/scim';
import { MemoryReplayCache, RedisReplayCache, type ReplayCache } from '@jit-sso/express/protocol';
import { buildExpressApp } from '../../test/e2e/src/apps/express.js';
import { buildNestApp } from '../../test/e2e/src/apps/nest.js';
import { buildKoaApp } from '../../test/e2e/src/apps/koa.js';
import { IDP_KEY, SP_KEY, TestSamlIdp, type SamlIdpUser } from '../../test/e2e/src/saml-idp.js';
import { freePort } from '../../test/e2e/src/ports.js';
import type { AdapterApp, E2eEnvironment } from '../../test/e2e/src/harness.js';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const LOGINS = Number(arg('logins', '200'));
const REQUESTS = Number(arg('requests', '2000'));
const WARMUP = 30;
const CACHE = arg('cache', 'redis');

const dir = mkdtempSync(join(tmpdir(), 'jit-bench-adapters-'));
const dataSource = await createJitDataSource(`sqlite:${join(dir, 'jit.sqlite')}`);
await migrate(dataSource);
const store = new TypeormDirectoryStore(dataSource);
const idp = new TestSamlIdp();
await idp.start();
const redis = CACHE === 'redis' ? new Redis({ host: '127.0.0.1', port: 6379 }) : null;
const replayCache: ReplayCache = redis
  ? new RedisReplayCache(redis, `jit-sso:bench:${randomBytes(4).toString('hex')}:`)
  : new MemoryReplayCache();
const id = 'acme-saml';

/** An environment for one app: its own port (the ACS URL is in the connection), the shared store and IdP. */
async function environment(): Promise<E2eEnvironment> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const connection: ConnectionInput = {
    id,
    tenantId: 'acme',
    protocol: 'saml',
    issuer: idp.entityIdFor(id),
    jit: { verifiedDomains: ['acme.test'], emailAuthoritative: true, defaultRoles: ['member'] },
    protocolOptions: {
      saml: {
        entryPoint: idp.ssoUrlFor(id),
        idpCert: [IDP_KEY.cert],
        spEntityId: `${baseUrl}/auth/saml/${id}/metadata`,
        acsUrl: `${baseUrl}/auth/saml/${id}/acs`,
        privateKey: SP_KEY.key,
        publicCert: SP_KEY.cert,
      },
    },
  };
  const provisioner = createProvisioner({ store, connections: [connection] });
  // Everything the apps use; the OIDC provider and the SCIM token belong to other suites.
  const used: Omit<E2eEnvironment, 'oidc' | 'scimToken' | 'close' | 'forgetReplayCache'> = {
    samlValidationPool: undefined,
    loginAdmission: undefined,
    port,
    baseUrl,
    provisioner,
    store,
    connections: [connection],
    replayCache,
    sessionSecret: randomBytes(32).toString('hex'),
    scim: createScimService({ store, provisioner, baseUrl: `${baseUrl}/scim/v2` }),
    saml: idp,
  };
  return used as E2eEnvironment;
}

const person: SamlIdpUser = {
  nameID: `bench-${randomBytes(3).toString('hex')}`,
  attributes: {
    email: `bench.${randomBytes(3).toString('hex')}@acme.test`,
    givenName: 'Bench',
    sn: 'Person',
  },
};

/** One login; returns the ACS time in ms and the session cookie. */
async function login(baseUrl: string): Promise<{ ms: number; cookie: string }> {
  const start = await fetch(`${baseUrl}/auth/saml/${id}/login`, { redirect: 'manual' });
  const cookies = start.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const request = idp.requestFromRedirect(start.headers.get('location')!);
  const body = new URLSearchParams({
    SAMLResponse: Buffer.from(idp.createResponse({ request, user: person })).toString('base64'),
    RelayState: request.relayState,
  }).toString();
  const t0 = performance.now();
  const answer = await fetch(request.acsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookies ? { cookie: cookies } : {}) },
    body,
    redirect: 'manual',
  });
  await answer.arrayBuffer();
  const ms = performance.now() - t0;
  if (answer.status !== 303) throw new Error(`login failed: ${answer.status}`);
  const cookie = answer.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return { ms, cookie };
}

async function me(baseUrl: string, cookie: string): Promise<number> {
  const t0 = performance.now();
  const answer = await fetch(`${baseUrl}/me`, { headers: { cookie, accept: 'application/json' } });
  await answer.arrayBuffer();
  const ms = performance.now() - t0;
  if (answer.status !== 200) throw new Error(`/me failed: ${answer.status}`);
  return ms;
}

interface Stats {
  mean: number;
  median: number;
  p95: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    median: sorted[Math.floor(sorted.length / 2)]!,
    p95: sorted[Math.floor(sorted.length * 0.95)]!,
  };
}

const ROUNDS = 5;
const adapters = [
  ['express', buildExpressApp],
  ['nest', buildNestApp],
  ['koa', buildKoaApp],
] as const;

interface Running {
  name: string;
  env: E2eEnvironment;
  app: AdapterApp;
  cookie: string;
  logins: number[];
  requests: number[];
}

const running: Running[] = [];
for (const [name, build] of adapters) {
  const env = await environment();
  const app = await build(env);
  let cookie = '';
  for (let i = 0; i < WARMUP; i++) cookie = (await login(env.baseUrl)).cookie;
  for (let i = 0; i < WARMUP * 10; i++) await me(env.baseUrl, cookie);
  running.push({ name, env, app, cookie, logins: [], requests: [] });
}

// Interleaved rounds, so that load from other work on the machine falls on every adapter alike.
for (let round = 0; round < ROUNDS; round++) {
  for (const r of running) {
    for (let i = 0; i < LOGINS / ROUNDS; i++) {
      const result = await login(r.env.baseUrl);
      r.logins.push(result.ms);
      r.cookie = result.cookie;
    }
    for (let i = 0; i < REQUESTS / ROUNDS; i++) r.requests.push(await me(r.env.baseUrl, r.cookie));
  }
}
const results = running.map((r) => ({ name: r.name, login: stats(r.logins), me: stats(r.requests) }));
for (const r of running) await r.app.close();

const ms = (v: number) => v.toFixed(2).padStart(7);
const base = results[0]!;
console.log(
  `Returning SAML login (ACS) and GET /me per adapter; TypeormStore on SQLite (WAL file), ${CACHE} replay cache; ${LOGINS} logins, ${REQUESTS} requests each; Node ${process.version}`,
);
console.log(
  'adapter | ACS mean / median / p95 (ms)   | vs express (median) | /me mean / median / p95 (ms)    | vs express (median)',
);
for (const r of results) {
  console.log(
    `${r.name.padEnd(7)} | ${ms(r.login.mean)} ${ms(r.login.median)} ${ms(r.login.p95)} | ${(r.login.median / base.login.median).toFixed(2)}x               | ${ms(r.me.mean)} ${ms(r.me.median)} ${ms(r.me.p95)} | ${(r.me.median / base.me.median).toFixed(2)}x`,
  );
}

await idp.close();
redis?.disconnect();
await dataSource.destroy();
rmSync(dir, { recursive: true, force: true });
