/**
 * A whole SAML login through the Express adapter (POST of a signed response to the ACS, until the
 * answer that sets the session cookie), a whole OIDC login (the callback, token exchange included),
 * and the JIT step (`provisioner.provision`) inside each, on SQLite through @jit-sso/typeorm. The
 * figure is the JIT step's share of the login's time, with SAML responses validated in-process and
 * in a `SamlValidationPool`, in the same run.
 *
 *   node --conditions=source --import tsx bench/express/saml-login.ts [--logins=300] [--cache=redis|memory] [--validation=in-process,pool]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createProvisioner, type ConnectionInput, type Provisioner } from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormDirectoryStore } from '@jit-sso/typeorm';
import { createScimService } from '@jit-sso/scim';
import {
  MemoryReplayCache,
  RedisReplayCache,
  samlOptionsFor,
  type ReplayCache,
} from '@jit-sso/express/protocol';
import { SamlValidationPool } from '@jit-sso/express';
import { SAML } from '@node-saml/node-saml';
import { buildExpressApp } from '../../test/e2e/src/apps/express.js';
import { IDP_KEY, SP_KEY, TestSamlIdp, type SamlIdpUser } from '../../test/e2e/src/saml-idp.js';
import { freePort } from '../../test/e2e/src/ports.js';
import { TestOidcProvider } from '../../test/e2e/src/oidc-idp.js';
import { Browser, readForm } from '../../test/e2e/src/browser.js';
import type { E2eEnvironment } from '../../test/e2e/src/environment.js';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const LOGINS = Number(arg('logins', '300'));
const WARMUP = 30;
const CACHE = arg('cache', 'redis');
const MODES = arg('validation', 'in-process,pool').split(',') as ('in-process' | 'pool')[];

const dir = mkdtempSync(join(tmpdir(), 'jit-bench-'));
const dataSource = await createJitDataSource(`sqlite:${join(dir, 'jit.sqlite')}`);
await migrate(dataSource);
const store = new TypeormDirectoryStore(dataSource);

const idp = new TestSamlIdp();
await idp.start();
const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
const id = 'acme-saml';
const oidcId = 'acme-oidc';
const oidc = new TestOidcProvider();
await oidc.start([
  {
    client_id: oidcId,
    client_secret: 'bench-client-secret-0123456789abcdef',
    redirect_uris: [`${baseUrl}/auth/oidc/${oidcId}/callback`],
  },
]);
const oidcConnection: ConnectionInput = {
  id: oidcId,
  tenantId: 'acme',
  protocol: 'oidc',
  issuer: oidc.issuer,
  jit: { verifiedDomains: ['acme.test'], defaultRoles: ['member'] },
  protocolOptions: {
    oidc: {
      clientId: oidcId,
      clientSecret: 'bench-client-secret-0123456789abcdef',
      redirectUri: `${baseUrl}/auth/oidc/${oidcId}/callback`,
      scope: 'openid email profile groups',
      allowInsecureRequests: true,
    },
  },
};
const connection: ConnectionInput = {
  id,
  tenantId: 'acme',
  protocol: 'saml',
  issuer: idp.entityIdFor(id),
  jit: {
    verifiedDomains: ['acme.test'],
    emailAuthoritative: true,
    defaultRoles: ['member'],
    roleRules: [{ group: 'engineering', roles: ['developer'] }],
  },
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
const engine = createProvisioner({ store, connections: [connection, oidcConnection] });

// The JIT step, timed where the adapter calls it.
const jitTimes: number[] = [];
const provisioner: Provisioner = {
  ...engine,
  async provision(request) {
    const start = performance.now();
    try {
      return await engine.provision(request);
    } finally {
      jitTimes.push(performance.now() - start);
    }
  },
};

let redis: Redis | null = null;
let replayCache: ReplayCache;
if (CACHE === 'redis') {
  redis = new Redis({ host: '127.0.0.1', port: 6379 });
  replayCache = new RedisReplayCache(redis, `jit-sso:bench:${randomBytes(4).toString('hex')}:`);
} else {
  replayCache = new MemoryReplayCache();
}

// Everything the app uses; the SCIM token and the replay cache's reset belong to other suites.
const used: Omit<E2eEnvironment, 'scimToken' | 'close' | 'forgetReplayCache' | 'samlValidationPool'> = {
  loginAdmission: undefined,
  port,
  baseUrl,
  provisioner,
  store,
  connections: [connection, oidcConnection],
  replayCache,
  sessionSecret: randomBytes(32).toString('hex'),
  scim: createScimService({ store, provisioner: engine, baseUrl: `${baseUrl}/scim/v2` }),
  saml: idp,
  oidc,
};

function user(n: string): SamlIdpUser {
  return {
    nameID: `bench-${n}`,
    attributes: {
      email: `bench.${n}@acme.test`,
      givenName: 'Bench',
      sn: `Person ${n}`,
      groups: ['engineering'],
    },
  };
}

/** One login; returns the ACS time in ms (the AuthnRequest and the IdP's signing are not timed). */
async function login(person: SamlIdpUser): Promise<number> {
  const start = await fetch(`${baseUrl}/auth/saml/${id}/login`, { redirect: 'manual' });
  const request = idp.requestFromRedirect(start.headers.get('location')!);
  // The login is bound to the browser that started it: the ACS post carries its binding cookie.
  const binding = start.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0]!)
    .join('; ');
  const body = new URLSearchParams({
    SAMLResponse: Buffer.from(idp.createResponse({ request, user: person })).toString('base64'),
    RelayState: request.relayState,
  }).toString();
  const t0 = performance.now();
  const answer = await fetch(request.acsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: binding },
    body,
    redirect: 'manual',
  });
  await answer.arrayBuffer();
  const elapsed = performance.now() - t0;
  if (answer.status !== 303 || !answer.headers.get('set-cookie')?.includes('sid=')) {
    throw new Error(`login failed: ${answer.status}`);
  }
  return elapsed;
}

/** One OIDC login; returns the callback's time in ms (the authorization request and the IdP's forms are not timed). */
async function oidcLogin(subject: string): Promise<number> {
  oidc.accounts.set(subject, {
    email: `${subject}@acme.test`,
    email_verified: true,
    given_name: 'Bench',
    family_name: subject,
    groups: ['engineering'],
  });
  const browser = new Browser();
  const start = await browser.get(`${baseUrl}/auth/oidc/${oidcId}/login`);
  let page = start.location!;
  let current = await browser.get(page);
  for (let step = 0; step < 20; step++) {
    if (current.status >= 300 && current.status < 400 && current.location) {
      if (current.location.startsWith(baseUrl)) {
        const t0 = performance.now();
        const answer = await browser.get(current.location);
        const elapsed = performance.now() - t0;
        if (answer.status !== 303) throw new Error(`OIDC login failed: ${answer.status} ${answer.body}`);
        return elapsed;
      }
      page = current.location;
      current = await browser.get(page);
      continue;
    }
    const form = readForm(current.body);
    const fields =
      form.fields['prompt'] === 'login' ? { ...form.fields, login: subject, password: 'test' } : form.fields;
    current = await browser.post(new URL(form.action, page).href, fields);
  }
  throw new Error('the OIDC login did not come back to the app');
}

interface Stats {
  mean: number;
  median: number;
  p95: number;
  total: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = samples.reduce((a, b) => a + b, 0);
  return {
    mean: total / samples.length,
    median: sorted[Math.floor(sorted.length / 2)]!,
    p95: sorted[Math.floor(sorted.length * 0.95)]!,
    total,
  };
}

async function scenario(name: string, once: (i: number) => Promise<number>) {
  for (let i = 0; i < WARMUP; i++) await once(-1 - i);
  jitTimes.length = 0;
  const logins: number[] = [];
  for (let i = 0; i < LOGINS; i++) logins.push(await once(i));
  const l = stats(logins);
  const j = stats(jitTimes);
  return { name, login: l, jit: j, share: j.total / l.total };
}

/** node-saml's validation of the same kind of response alone (no HTTP, no session, no JIT), for scale. */
async function validationOnly(): Promise<Stats> {
  const options = samlOptionsFor(await engine.getConnection(id), new MemoryReplayCache());
  const saml = new SAML({ ...options, validateInResponseTo: 'never' as never });
  const request = {
    id: '_bench',
    acsUrl: `${baseUrl}/auth/saml/${id}/acs`,
    spEntityId: `${baseUrl}/auth/saml/${id}/metadata`,
    relayState: '',
    idpEntityId: idp.entityIdFor(id),
  };
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + LOGINS; i++) {
    const body = {
      SAMLResponse: Buffer.from(idp.createResponse({ request, user: user(`${tag}-v-${i}`) })).toString(
        'base64',
      ),
    };
    const t0 = performance.now();
    await saml.validatePostResponseAsync(body);
    if (i >= WARMUP) samples.push(performance.now() - t0);
  }
  return stats(samples);
}

const tag = randomBytes(3).toString('hex');
const ms = (v: number) => v.toFixed(2).padStart(7);
console.log(
  `Logins through @jit-sso/express, TypeormStore on SQLite (WAL file), ${CACHE} replay cache, ${LOGINS} logins each, Node ${process.version}`,
);
console.log(
  'validation | scenario                       | login mean / median / p95 (ms) | JIT mean / median / p95 (ms) | JIT share (sum) | JIT share (medians) | load average',
);
for (const mode of MODES) {
  const samlValidationPool = mode === 'pool' ? new SamlValidationPool() : undefined;
  await samlValidationPool?.warm();
  const app = await buildExpressApp({ ...used, samlValidationPool } as E2eEnvironment);
  const saml = (person: (i: number) => SamlIdpUser) => (i: number) => login(person(i));
  const results = [
    await scenario(
      'SAML first login (created)',
      saml((i) => user(`${tag}-${mode}-new-${i}`)),
    ),
    await scenario(
      'SAML returning (unchanged)',
      saml(() => user(`${tag}-${mode}-returning`)),
    ),
    await scenario('OIDC first login (created)', (i) => oidcLogin(`oidc-${tag}-${mode}-new-${i}`)),
    await scenario('OIDC returning (unchanged)', () => oidcLogin(`oidc-${tag}-${mode}-returning`)),
  ];
  for (const r of results) {
    console.log(
      `${mode.padEnd(10)} | ${r.name.padEnd(30)} | ${ms(r.login.mean)} ${ms(r.login.median)} ${ms(r.login.p95)}     | ${ms(r.jit.mean)} ${ms(r.jit.median)} ${ms(r.jit.p95)}   | ${(r.share * 100).toFixed(1).padStart(6)}%         | ${((r.jit.median / r.login.median) * 100).toFixed(1).padStart(6)}%             | ${loadavg()[0]!.toFixed(1)}`,
    );
  }
  await app.close();
  await samlValidationPool?.close();
  // The next mode's app listens on the same port: let the client see the old connections close.
  await new Promise((resolve) => setTimeout(resolve, 500));
}
const validation = await validationOnly();
console.log(
  `node-saml validatePostResponseAsync alone: mean ${validation.mean.toFixed(2)} ms, median ${validation.median.toFixed(2)} ms, p95 ${validation.p95.toFixed(2)} ms`,
);

await oidc.close();
await idp.close();
redis?.disconnect();
await dataSource.destroy();
rmSync(dir, { recursive: true, force: true });
