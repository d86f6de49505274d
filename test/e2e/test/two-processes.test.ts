import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionInput } from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormStore } from '@jit-sso/typeorm';
import { Browser, type BrowserResponse } from '../src/browser.js';
import { IDP_KEY, SP_KEY, TestSamlIdp } from '../src/saml-idp.js';
import { auditMark, expectRefused, newPerson, samlUser } from '../src/suite/context.js';
import { startAppProcess, startRedisServer, type Child } from '../src/processes/children.js';

// The servers of the development machine and CI; override with JIT_TEST_POSTGRES_URL / JIT_TEST_MYSQL_URL.
const POSTGRES_SERVER = process.env['JIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const MYSQL_SERVER = process.env['JIT_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';
const ROUNDS = 10;

/** Where the identity provider and the app are reached: behind one name, whichever copy answers. */
const IDP = 'http://idp.e2e.test';
const SP = 'http://sp.e2e.test';
/** Its replay cache is Redis, shared by both processes. */
const SHARED = 'acme-idp-initiated';
/** Its replay cache is each process's memory: only the database can tell the two posts apart. */
const OWN = 'acme-idp-initiated-own-cache';

const saml = new TestSamlIdp();
saml.baseUrl = IDP;

const connection = (id: string): ConnectionInput => ({
  id,
  tenantId: 'acme',
  protocol: 'saml',
  issuer: saml.entityIdFor(id),
  jit: { verifiedDomains: ['acme.test'], emailAuthoritative: true, defaultRoles: ['member'] },
  protocolOptions: {
    saml: {
      entryPoint: saml.ssoUrlFor(id),
      idpCert: [IDP_KEY.cert],
      spEntityId: `${SP}/auth/saml/${id}/metadata`,
      acsUrl: `${SP}/auth/saml/${id}/acs`,
      privateKey: SP_KEY.key,
      publicCert: SP_KEY.cert,
      allowIdpInitiated: true,
      relayStateAllowList: ['/dashboard'],
    },
  },
});

interface Database {
  url: string;
  drop(): Promise<void>;
}

async function postgres(name: string): Promise<Database> {
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: `${POSTGRES_SERVER}/postgres` });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  return {
    url: `${POSTGRES_SERVER}/${name}`,
    drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

async function mariadb(name: string): Promise<Database> {
  const admin = async (sql: string) => {
    const client = await mysql.createConnection(MYSQL_SERVER);
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  return { url: `${MYSQL_SERVER}/${name}`, drop: () => admin(`DROP DATABASE IF EXISTS \`${name}\``) };
}

async function sqlite(name: string): Promise<Database> {
  const dir = mkdtempSync(join(tmpdir(), 'jit-e2e-processes-'));
  return {
    url: `sqlite:${join(dir, `${name}.sqlite`)}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh IdP-initiated response for a new person, as the form fields a browser posts. */
function unsolicited(connectionId: string) {
  const person = newPerson();
  const request = {
    id: '',
    acsUrl: `${SP}/auth/saml/${connectionId}/acs`,
    spEntityId: `${SP}/auth/saml/${connectionId}/metadata`,
    relayState: '/dashboard',
    idpEntityId: saml.entityIdFor(connectionId),
  };
  const xml = saml.createResponse({ request, user: samlUser(person), inResponseTo: null });
  return { person, fields: { SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: '/dashboard' } };
}

const signedIn = (answer: BrowserResponse) => answer.status >= 300 && answer.status < 400;

const DATABASES: [string, (name: string) => Promise<Database>][] = [
  ['PostgreSQL', postgres],
  ['MariaDB', mariadb],
  ['SQLite (one file)', sqlite],
];

// Two processes, each serving the app on every database (under `/<index>`): two starts, not six.
const databases: Database[] = [];
const dataSources: Awaited<ReturnType<typeof createJitDataSource>>[] = [];
let redis: Awaited<ReturnType<typeof startRedisServer>>;
let flusher: Redis;
let apps: (Child & { url: string })[] = [];

beforeAll(async () => {
  for (const [, create] of DATABASES) {
    const database = await create(`jit_e2e_processes_${randomBytes(4).toString('hex')}`);
    databases.push(database);
    const dataSource = await createJitDataSource(database.url);
    dataSources.push(dataSource);
    await migrate(dataSource);
  }
  redis = await startRedisServer();
  flusher = new Redis(redis.url);
  const config = {
    databaseUrls: databases.map((d) => d.url),
    connections: [connection(SHARED), connection(OWN)],
    redisUrl: redis.url,
    redisPrefix: 'jit-sso:e2e:',
    ownCacheConnections: [OWN],
    sessionSecret: randomBytes(32).toString('hex'),
  };
  apps = await Promise.all([startAppProcess(config), startAppProcess(config)]);
}, 90_000);

afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  flusher?.disconnect();
  await redis?.stop();
  for (const dataSource of dataSources) await dataSource.destroy();
  for (const database of databases) await database.drop();
});

describe.each(DATABASES.map(([name], index) => [name, index] as const))(
  'two app processes on one %s database',
  (_name, index) => {
    const store = () => new TypeormStore(dataSources[index]!);

    /** Posts the same fields to both processes at the same moment. */
    const race = (connectionId: string, fields: Record<string, string>) =>
      Promise.all(
        apps.map((app) =>
          new Browser().post(`${app.url}/${index}/auth/saml/${connectionId}/acs`, fields, { json: true }),
        ),
      );

    async function replayDenials(connectionId: string, since: Date) {
      const events = await store().listAuditEvents({ tenantId: 'acme', since, limit: 1000 });
      return events.filter(
        (e) => e.action === 'denied' && e.connectionId === connectionId && e.reason === 'SAML_REPLAY',
      );
    }

    /** One round: exactly one process signs the person in, the other refuses a replay and audits it. */
    async function expectOneAccepted(connectionId: string, fields: Record<string, string>, email: string) {
      const since = await auditMark();
      const answers = await race(connectionId, fields);
      const accepted = answers.filter(signedIn);
      expect(accepted, answers.map((a) => `${a.status} ${a.body}`).join('\n')).toHaveLength(1);
      expectRefused(
        answers.find((a) => !signedIn(a))!,
        'SAML_REPLAY',
      );
      expect(await replayDenials(connectionId, since)).toHaveLength(1);
      const user = await store().findUserByEmail('acme', email);
      expect(user).not.toBeNull();
      const events = await store().listAuditEvents({ userId: user!.id, limit: 10 });
      expect(events.map((e) => e.action)).toEqual(['created']);
    }

    it(`accepts one of two copies of an IdP-initiated response, ${ROUNDS} times, with the replay cache shared in Redis`, async () => {
      const posted: Record<string, string>[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const { person, fields } = unsolicited(SHARED);
        await expectOneAccepted(SHARED, fields, person.email);
        posted.push(fields);
      }
      // Redis lost its keys (restart, flush, eviction): both copies still refuse every response.
      await flusher.flushall();
      const since = await auditMark();
      for (const fields of posted) {
        for (const answer of await race(SHARED, fields)) expectRefused(answer, 'SAML_REPLAY');
      }
      expect(await replayDenials(SHARED, since)).toHaveLength(2 * ROUNDS);
    }, 60_000);

    it('refuses a replay sent while Redis is down (503 at once, not held for later) and after Redis restarts empty', async () => {
      const { person, fields } = unsolicited(SHARED);
      const post = (app: (typeof apps)[number]) =>
        new Browser().post(`${app.url}/${index}/auth/saml/${SHARED}/acs`, fields, { json: true });
      expect(signedIn(await post(apps[0]!))).toBe(true);

      await redis.stop();
      const started = Date.now();
      const duringOutage = await post(apps[1]!);
      expect(Date.now() - started).toBeLessThan(1000);
      expectRefused(duringOutage, 'STORE_FAILURE');

      // The same server comes back on its port with nothing in it; the copies' clients reconnect.
      redis = await startRedisServer(redis.port);
      flusher.disconnect();
      flusher = new Redis(redis.url);
      const since = await auditMark();
      for (const app of apps) {
        let answer = await post(app);
        for (let wait = 0; answer.status === 503 && wait < 50; wait++) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          answer = await post(app);
        }
        expectRefused(answer, 'SAML_REPLAY');
      }
      expect(await replayDenials(SHARED, since)).toHaveLength(2);
      // The post made during the outage was not kept and completed later: one sign-in, one user.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const user = await store().findUserByEmail('acme', person.email);
      const events = await store().listAuditEvents({ userId: user!.id, limit: 10 });
      expect(events.map((e) => e.action)).toEqual(['created']);
    }, 60_000);

    it(`accepts one of two copies, ${ROUNDS} times, when each process has its own replay cache (the database decides)`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { person, fields } = unsolicited(OWN);
        await expectOneAccepted(OWN, fields, person.email);
      }
    }, 60_000);
  },
);
