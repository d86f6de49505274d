import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SESSION_COOKIE } from '@jit-sso/sample-express';
import { Browser, startProcess, startRedisServer, type Child } from '@jit-sso/dev-idp/testing';
import { startNestSample } from '../src/index.js';

const require = createRequire(import.meta.url);

/** `npm start -w @jit-sso/sample-nest` as its own process, on a free port, with `env` added to this one's. */
async function startNestProcess(env: Record<string, string>): Promise<Child & { url: string }> {
  const child = await startProcess(
    process.execPath,
    [require.resolve('tsx/cli'), '--tsconfig', 'tsconfig.start.json', '--conditions=source', 'src/main.ts'],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, PORT: '0', ...env },
      ready: /at (https?:\/\/\S+)\n[\s\S]*Press Ctrl-C/,
    },
  );
  return { ...child, url: child.match[1]! };
}

let dir: string;
let redis: Child & { url: string };
let copies: (Child & { url: string })[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-sample-nest-copies-'));
  redis = await startRedisServer();
  const env = { DATABASE_URL: `sqlite:${join(dir, 'sample.sqlite')}`, REDIS_URL: redis.url };
  // One after the other: the first start migrates the database.
  copies.push(await startNestProcess(env));
  copies.push(await startNestProcess(env));
}, 60_000);

afterAll(async () => {
  await Promise.all(copies.map((copy) => copy.stop()));
  copies = [];
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A signed-in page of `url`, with only the session cookie `sid`. */
const profile = (url: string, sid: string) =>
  fetch(`${url}/profile`, { headers: { cookie: `${SESSION_COOKIE}=${sid}` }, redirect: 'manual' });

describe('two copies of the Nest sample on one database and REDIS_URL', () => {
  it('recognise each other’s sessions: signed in through one, signed in on the other, signed out on both', async () => {
    const [first, second] = copies as [Child & { url: string }, Child & { url: string }];
    const browser = new Browser();
    const signedIn = await browser.pick(await browser.go(`${first.url}/auth/saml/acme-saml/login`), 'u1001');
    expect(signedIn.url).toBe(`${first.url}/profile`);
    const sid = browser.cookie(first.url, SESSION_COOKIE)!;
    expect(sid).toBeDefined();

    const onSecond = await profile(second.url, sid);
    expect(onSecond.status).toBe(200);
    expect(await onSecond.text()).toContain('alice@acme.test');

    const signOut = await fetch(`${second.url}/logout`, {
      method: 'POST',
      headers: { cookie: `${SESSION_COOKIE}=${sid}` },
      redirect: 'manual',
    });
    expect(signOut.status).toBe(303);
    expect((await profile(first.url, sid)).status).toBe(401);
  });

  it('answers 503 STORE_FAILURE at once while Redis is down, and logs why', async () => {
    const own = await startRedisServer();
    // One Nest sample in this process: @nestjs/passport keeps its serializer on passport's global instance.
    const sample = await startNestSample({ port: 0, databaseUrl: 'sqlite::memory:', redisUrl: own.url });
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
