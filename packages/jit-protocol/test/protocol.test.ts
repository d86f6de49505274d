import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { JitError } from '@jit-sso/core';
import {
  checkSamlAssertion,
  checkTenantId,
  consumeAssertion,
  MemoryReplayCache,
  PostgresReplayCache,
  RedisReplayCache,
  refuseDoctype,
  refuseDoctypeInEncoded,
  toProtocolError,
  type ReplayCache,
} from '../src/index.js';

const ACS = 'https://app.test/auth/saml/acme/acs';
const IDP = 'https://idp.test/metadata';

function assertionXml(o: { issuer?: string; recipient?: string; alg?: string; digest?: string } = {}) {
  return (
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0">` +
    `<saml:Issuer>${o.issuer ?? IDP}</saml:Issuer>` +
    `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
    `<ds:SignatureMethod Algorithm="${o.alg ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'}"/>` +
    `<ds:Reference URI="#_a1"><ds:DigestMethod Algorithm="${o.digest ?? 'http://www.w3.org/2001/04/xmlenc#sha256'}"/></ds:Reference>` +
    `</ds:SignedInfo></ds:Signature>` +
    `<saml:Subject><saml:NameID>u1</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData Recipient="${o.recipient ?? ACS}" NotOnOrAfter="2030-01-01T00:05:00Z"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotOnOrAfter="2030-01-01T00:00:00Z"/></saml:Assertion>`
  );
}

const responseXml = (destination = ACS) =>
  `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Destination="${destination}" InResponseTo="_req1"/>`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof JitError ? error.code : 'not a JitError';
  }
  return undefined;
}

describe('checkSamlAssertion', () => {
  const expect_ = { idpEntityId: IDP, acsUrl: ACS };
  const verified = (a: string, r = responseXml()) => ({
    getAssertionXml: () => a,
    getSamlResponseXml: () => r,
  });

  it('returns the facts replay protection needs', () => {
    const checked = checkSamlAssertion(verified(assertionXml()), expect_);
    expect(checked).toEqual({
      issuer: IDP,
      assertionId: '_a1',
      notOnOrAfter: new Date('2030-01-01T00:05:00Z'),
      inResponseTo: '_req1',
    });
  });

  it('refuses an assertion of another issuer', () => {
    expect(
      codeOf(() => checkSamlAssertion(verified(assertionXml({ issuer: 'https://evil.test' })), expect_)),
    ).toBe('SAML_ISSUER_MISMATCH');
  });

  it('refuses another Recipient and another Destination', () => {
    expect(
      codeOf(() =>
        checkSamlAssertion(verified(assertionXml({ recipient: 'https://evil.test/acs' })), expect_),
      ),
    ).toBe('SAML_RECIPIENT_MISMATCH');
    expect(
      codeOf(() =>
        checkSamlAssertion(verified(assertionXml(), responseXml('https://evil.test/acs')), expect_),
      ),
    ).toBe('SAML_RECIPIENT_MISMATCH');
  });

  it('refuses SHA-1 signatures and digests unless allowed', () => {
    const sha1 = assertionXml({ alg: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' });
    const sha1Digest = assertionXml({ digest: 'http://www.w3.org/2000/09/xmldsig#sha1' });
    expect(codeOf(() => checkSamlAssertion(verified(sha1), expect_))).toBe('SAML_WEAK_SIGNATURE');
    expect(codeOf(() => checkSamlAssertion(verified(sha1Digest), expect_))).toBe('SAML_WEAK_SIGNATURE');
    expect(codeOf(() => checkSamlAssertion(verified(sha1), { ...expect_, allowSha1: true }))).toBeUndefined();
  });

  it('refuses a DOCTYPE anywhere, in plain or base64 form', () => {
    const evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x/>';
    expect(codeOf(() => refuseDoctype(evil))).toBe('SAML_DOCTYPE_FORBIDDEN');
    expect(codeOf(() => refuseDoctypeInEncoded(Buffer.from(evil).toString('base64')))).toBe(
      'SAML_DOCTYPE_FORBIDDEN',
    );
    expect(codeOf(() => refuseDoctypeInEncoded(Buffer.from(evil, 'utf16le').toString('base64')))).toBe(
      'SAML_DOCTYPE_FORBIDDEN',
    );
    expect(codeOf(() => checkSamlAssertion(verified(evil), expect_))).toBe('SAML_DOCTYPE_FORBIDDEN');
  });
});

const DATABASE = 'jit_protocol';

/** A database of this package's own on the local PostgreSQL, created when missing. */
async function postgresPool(): Promise<pg.Pool> {
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await admin.connect();
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (rows.length === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: DATABASE, max: 10 });
}

describe('replay caches', () => {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  let pool: pg.Pool | null = null;
  const tables: string[] = [];
  const table = () => {
    tables.push(`replay_${randomBytes(4).toString('hex')}`);
    return tables[tables.length - 1]!;
  };
  const caches: Record<string, () => Promise<ReplayCache>> = {
    memory: async () => new MemoryReplayCache(),
    redis: async () => {
      if (redis.status === 'wait') await redis.connect();
      return new RedisReplayCache(redis, `jit-sso:test:${randomBytes(6).toString('hex')}:`);
    },
    postgres: async () => {
      pool ??= await postgresPool();
      const cache = new PostgresReplayCache(pool, { table: table() });
      await cache.ensureTable();
      return cache;
    },
  };

  for (const [name, make] of Object.entries(caches)) {
    it(`${name}: consumes an assertion once, also under concurrent copies`, async () => {
      const cache = await make();
      const assertion = {
        issuer: IDP,
        assertionId: '_a1',
        notOnOrAfter: new Date(Date.now() + 60_000),
        inResponseTo: '_r1',
      };
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, () => consumeAssertion(cache, assertion)),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes.filter((o) => o.status === 'rejected')) {
        expect((o as PromiseRejectedResult).reason.code).toBe('SAML_REPLAY');
      }
      // Another assertion answering the same request is refused too.
      await expect(consumeAssertion(cache, { ...assertion, assertionId: '_a2' })).rejects.toMatchObject({
        code: 'SAML_REPLAY',
      });
      // The same id from another issuer is a different assertion, refused for at least five minutes.
      await expect(
        consumeAssertion(cache, { ...assertion, issuer: 'https://other.test', inResponseTo: null }),
      ).resolves.toBe(5 * 60_000);
    });

    it(`${name}: keeps request ids for node-saml`, async () => {
      const cache = await make();
      expect(await cache.saveAsync('_req', 'v')).toMatchObject({ value: 'v' });
      expect(await cache.saveAsync('_req', 'w')).toBeNull();
      expect(await cache.getAsync('_req')).toBe('v');
      expect(await cache.removeAsync('_req')).toBe('v');
      expect(await cache.getAsync('_req')).toBeNull();
    });
  }

  it('memory: forgets entries after their time', async () => {
    let now = 1_000;
    const cache = new MemoryReplayCache({ now: () => now, requestTtlMs: 100 });
    expect(await cache.consume('k', 50)).toBe(true);
    expect(await cache.consume('k', 50)).toBe(false);
    now += 51;
    expect(await cache.consume('k', 50)).toBe(true);
    await cache.saveAsync('r', 'v');
    now += 101;
    expect(await cache.getAsync('r')).toBeNull();
  });

  it('reports a Redis outage as a store failure, not as a bad response', async () => {
    const down = new RedisReplayCache({
      set: () => Promise.reject(new Error('ECONNREFUSED')),
      get: () => Promise.reject(new Error('ECONNREFUSED')),
      del: () => Promise.reject(new Error('ECONNREFUSED')),
    });
    await expect(down.getAsync('x')).rejects.toMatchObject({ code: 'STORE_FAILURE' });
    const assertion = { issuer: IDP, assertionId: '_a', notOnOrAfter: null, inResponseTo: null };
    await expect(consumeAssertion(down, assertion)).rejects.toMatchObject({ code: 'STORE_FAILURE' });
  });

  it('fails closed within its command timeout when Redis hangs', async () => {
    const hung = new RedisReplayCache(
      {
        status: 'ready',
        set: () => new Promise(() => {}),
        get: () => new Promise(() => {}),
        del: async () => 0,
      },
      'jit-sso:test:',
      { commandTimeoutMs: 200 },
    );
    const started = Date.now();
    const assertion = { issuer: IDP, assertionId: '_hung', notOnOrAfter: null, inResponseTo: null };
    const error = await consumeAssertion(hung, assertion).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_FAILURE' });
    expect(String((error as { cause?: unknown }).cause)).toContain('did not answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails at once, without queueing, when the Redis client is not connected', async () => {
    // A client as the README builds it (offline queue, retries), on a port where nothing listens.
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const client = new Redis({ host: '127.0.0.1', port: closed });
    client.on('error', () => undefined);
    try {
      const cache = new RedisReplayCache(client);
      const assertion = { issuer: IDP, assertionId: '_down', notOnOrAfter: null, inResponseTo: null };
      // The first command waits for the first connection attempt, within the command timeout.
      let started = Date.now();
      expect(await consumeAssertion(cache, assertion).catch((e: unknown) => e)).toMatchObject({
        code: 'STORE_FAILURE',
      });
      expect(Date.now() - started).toBeLessThan(1000);
      // Once the client knows it lost the server, a command fails at once instead of queueing.
      started = Date.now();
      const error = await consumeAssertion(cache, assertion).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'STORE_FAILURE' });
      expect(String((error as { cause?: unknown }).cause)).toMatch(/not connected \(status "reconnecting"\)/);
      expect(Date.now() - started).toBeLessThan(50);
    } finally {
      client.disconnect();
    }
  });

  it('redis: lets one of several app instances (own connections) take an assertion', async () => {
    const prefix = `jit-sso:test:${randomBytes(6).toString('hex')}:`;
    const clients = Array.from(
      { length: 4 },
      () => new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 }),
    );
    try {
      const assertion = { issuer: IDP, assertionId: '_shared', notOnOrAfter: null, inResponseTo: null };
      const outcomes = await Promise.allSettled(
        clients.flatMap((client) =>
          [0, 1].map(() => consumeAssertion(new RedisReplayCache(client, prefix), assertion)),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    } finally {
      for (const client of clients) client.disconnect();
    }
  });

  it('postgres: takes an expired key again and purges expired rows', async () => {
    pool ??= await postgresPool();
    const cache = new PostgresReplayCache(pool, { table: table() });
    await cache.ensureTable();
    expect(await cache.consume('k', 50)).toBe(true);
    expect(await cache.consume('k', 50)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await cache.consume('k', 60_000)).toBe(true);
    await cache.consume('short', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await cache.purgeExpired()).toBe(1);
    expect(() => new PostgresReplayCache(pool!, { table: 'x; DROP TABLE y' })).toThrow(JitError);
  });

  afterAll(async () => {
    redis.disconnect();
    for (const name of tables) await pool?.query(`DROP TABLE IF EXISTS ${name}`);
    await pool?.end();
  });
});

describe('checkTenantId', () => {
  const entra = {
    id: 'c',
    issuer: 'https://login.microsoftonline.com/organizations/v2.0',
    allowedTenantIds: ['t1'],
  };
  it('admits only allow-listed tenants on a multi-tenant issuer', () => {
    expect(codeOf(() => checkTenantId(entra, { tid: 't1' }))).toBeUndefined();
    expect(codeOf(() => checkTenantId(entra, { tid: 't2' }))).toBe('OIDC_TENANT_NOT_ALLOWED');
    expect(codeOf(() => checkTenantId(entra, {}))).toBe('OIDC_TENANT_NOT_ALLOWED');
    expect(codeOf(() => checkTenantId({ ...entra, allowedTenantIds: [] }, { tid: 't1' }))).toBe(
      'INVALID_CONFIGURATION',
    );
  });
  it('leaves single-tenant issuers without a list alone', () => {
    expect(
      codeOf(() =>
        checkTenantId({ id: 'c', issuer: 'https://idp.test', allowedTenantIds: [] }, { tid: 'x' }),
      ),
    ).toBeUndefined();
  });
});

describe('toProtocolError', () => {
  it('keeps the library message out of what is shown', () => {
    const error = toProtocolError(new Error('Invalid signature at /Response/Assertion <xml>'), 'saml');
    expect(error.code).toBe('SAML_RESPONSE_INVALID');
    expect(error.message).not.toContain('<xml>');
    expect(toProtocolError(new Error('InResponseTo is not valid'), 'saml').code).toBe('SAML_REPLAY');
    const oidc = toProtocolError(new Error('unexpected ID Token "nonce" claim value'), 'oidc');
    expect(oidc).toMatchObject({ code: 'OIDC_CALLBACK_INVALID', details: { reason: 'nonce' } });
  });
});
