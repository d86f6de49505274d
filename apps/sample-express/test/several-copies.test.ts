import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Browser, startProcess, startRedisServer, type Child } from '@jit-sso/dev-idp/testing';
import { SESSION_COOKIE, startSample } from '../src/index.js';

// The server of the development machine and CI; override with JIT_TEST_POSTGRES_URL.
const POSTGRES_SERVER = process.env['JIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const NAME = `jit_sample_copies_${randomBytes(4).toString('hex')}`;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${POSTGRES_SERVER}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const require = createRequire(import.meta.url);

/** `npm start` as its own process, on a free port, with `env` added to this one's. */
async function startSampleProcess(env: Record<string, string>): Promise<Child & { url: string }> {
  const child = await startProcess(
    process.execPath,
    [require.resolve('tsx/cli'), '--conditions=source', 'src/main.ts'],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, PORT: '0', ...env },
      ready: /at (https?:\/\/\S+)\n[\s\S]*Press Ctrl-C/,
    },
  );
  return { ...child, url: child.match[1]! };
}

let redis: Child & { url: string };
let copies: (Child & { url: string })[] = [];
const databaseUrl = `${POSTGRES_SERVER}/${NAME}`;

beforeAll(async () => {
  await admin((c) => c.query(`CREATE DATABASE "${NAME}"`));
  redis = await startRedisServer();
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: redis.url };
  // One after the other: the first start migrates the database.
  copies.push(await startSampleProcess(env));
  copies.push(await startSampleProcess(env));
}, 60_000);

afterAll(async () => {
  await Promise.all(copies.map((copy) => copy.stop()));
  copies = [];
  await redis?.stop();
  await admin(async (c) => {
    await c.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [NAME],
    );
    await c.query(`DROP DATABASE IF EXISTS "${NAME}"`);
  });
});

/** A signed-in page of `url`, with only the session cookie `sid`. */
const profile = (url: string, sid: string) =>
  fetch(`${url}/profile`, { headers: { cookie: `${SESSION_COOKIE}=${sid}` }, redirect: 'manual' });

describe('two copies of the sample on one database and REDIS_URL', () => {
  it('recognise each other’s sessions: signed in through one, signed in on the other, signed out on both', async () => {
    const [first, second] = copies as [Child & { url: string }, Child & { url: string }];
    expect(first.url).not.toBe(second.url);
    const browser = new Browser();
    const picker = await browser.go(`${first.url}/auth/saml/acme-saml/login`);
    const signedIn = await browser.pick(picker, 'u1001');
    expect(signedIn.url).toBe(`${first.url}/profile`);
    const sid = browser.cookie(first.url, SESSION_COOKIE)!;
    expect(sid).toBeDefined();

    const onSecond = await profile(second.url, sid);
    expect(onSecond.status).toBe(200);
    expect(await onSecond.text()).toContain('alice@acme.test');

    // The sessions and the SAML replay cache are in Redis, where every copy finds them.
    const client = new Redis(redis.url);
    try {
      expect(await client.keys('jit-sample:sess:*')).toHaveLength(1);
      expect((await client.keys('jit-sso:saml:*')).length).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }

    // A copy without REDIS_URL keeps its sessions in memory: the same cookie means nothing to it.
    const alone = await startSample({ port: 0, databaseUrl });
    try {
      expect((await profile(alone.url, sid)).status).toBe(401);
    } finally {
      await alone.close();
    }

    const signOut = await fetch(`${second.url}/logout`, {
      method: 'POST',
      headers: { cookie: `${SESSION_COOKIE}=${sid}` },
      redirect: 'manual',
    });
    expect(signOut.status).toBe(303);
    expect((await profile(first.url, sid)).status).toBe(401);
  });
});

describe('REDIS_URL and SESSION_SECRET', () => {
  it('refuses a REDIS_URL that is not a redis:// URL, and a short SESSION_SECRET', async () => {
    await expect(
      startSample({ port: 0, devIdp: false, redisUrl: 'http://127.0.0.1:6379' }),
    ).rejects.toMatchObject({
      code: 'INVALID_CONFIGURATION',
      message: expect.stringContaining('REDIS_URL must be a redis://'),
    });
    await expect(startSample({ port: 0, devIdp: false, sessionSecret: 'short' })).rejects.toMatchObject({
      code: 'INVALID_CONFIGURATION',
      message: expect.stringContaining('SESSION_SECRET must be at least 32 characters'),
    });
  });

  it('fails the start at once, naming REDIS_URL without its password, when Redis does not answer', async () => {
    const started = Date.now();
    await expect(
      startSample({ port: 0, devIdp: false, redisUrl: 'redis://:hunter2hunter2@127.0.0.1:1' }),
    ).rejects.toMatchObject({
      code: 'STORE_FAILURE',
      message: 'Redis at REDIS_URL (redis://:***@127.0.0.1:1) did not answer.',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers 503 STORE_FAILURE at once while Redis is down, and logs why', async () => {
    const own = await startRedisServer();
    const sample = await startSample({ port: 0, databaseUrl: `sqlite::memory:`, redisUrl: own.url });
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const browser = new Browser();
      await browser.pick(await browser.go(`${sample.url}/auth/saml/acme-saml/login`), 'u1001');
      const sid = browser.cookie(sample.url, SESSION_COOKIE)!;
      expect((await profile(sample.url, sid)).status).toBe(200);

      await own.stop();
      const started = Date.now();
      const down = await profile(sample.url, sid);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(down.status).toBe(503);
      expect(await down.text()).toContain('STORE_FAILURE');
      expect(error.mock.calls.flat().join('\n')).toMatch(
        /GET \/profile answered 503 STORE_FAILURE: .*session store \(Redis\) did not answer/,
      );
    } finally {
      error.mockRestore();
      warn.mockRestore();
      await sample.close();
      await own.stop();
    }
  });
});
