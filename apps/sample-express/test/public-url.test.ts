import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSample, type Sample } from '../src/index.js';

let sample: Sample;
let dir: string;
let direct: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-sample-public-url-'));
  sample = await startSample({
    port: 0,
    publicUrl: 'https://sso.example.test/',
    databaseUrl: `sqlite:${join(dir, 'sample.sqlite')}`,
  });
  direct = `http://127.0.0.1:${sample.port}`;
});

afterAll(async () => {
  await sample?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sessionCookieOf = (res: request.Response) =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('jit-sample.sid='));

describe('the sample behind PUBLIC_URL=https://…', () => {
  it('uses the public origin in the connections and the pages', async () => {
    expect(sample.url).toBe('https://sso.example.test');
    const home = await request(direct).get('/').set('X-Forwarded-Proto', 'https');
    expect(home.text).toContain('https://sso.example.test/scim/v2');
    expect(home.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(home.headers['content-security-policy']).toContain('upgrade-insecure-requests');
  });

  it('sets a Secure session cookie on a request the TLS proxy forwarded', async () => {
    const res = await request(direct).get('/auth/oidc/acme-oidc/login').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(302);
    expect(res.headers['location']).toContain(encodeURIComponent('https://sso.example.test/auth/oidc/'));
    const cookie = sessionCookieOf(res);
    expect(cookie).toBeDefined();
    expect(cookie!.split(/;\s*/)).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Lax']));
  });

  it('sends no session cookie over plain HTTP, where a Secure cookie would leak', async () => {
    const res = await request(direct).get('/auth/oidc/acme-oidc/login');
    expect(sessionCookieOf(res)).toBeUndefined();
  });
});

describe('PUBLIC_URL', () => {
  it('must be an http(s) origin', async () => {
    for (const publicUrl of ['sso.example.test', 'ftp://sso.example.test', 'https://sso.example.test/app']) {
      await expect(startSample({ port: 0, publicUrl, devIdp: false })).rejects.toMatchObject({
        code: 'INVALID_CONFIGURATION',
        message: expect.stringContaining('PUBLIC_URL must be'),
      });
    }
  });
});
