import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Browser, textOf } from '@jit-sso/dev-idp/testing';
import { startSample, type Sample } from '../src/index.js';

let sample: Sample;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-sample-security-'));
  sample = await startSample({ port: 0, databaseUrl: `sqlite:${join(dir, 'sample.sqlite')}` });
});

afterAll(async () => {
  await sample?.close();
  rmSync(dir, { recursive: true, force: true });
});

function directives(csp: string | null): Map<string, string[]> {
  return new Map(
    (csp ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('the sample app’s security headers', () => {
  it('sends a policy that allows only the page’s own stylesheet, by its hash, and no script', async () => {
    const res = await fetch(sample.url);
    const body = await res.text();
    const csp = directives(res.headers.get('content-security-policy'));
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.has('script-src')).toBe(false);
    const styles = [...body.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    expect(styles).toHaveLength(1);
    const hash = createHash('sha256').update(styles[0]!).digest('base64');
    expect(csp.get('style-src')).toEqual([`'sha256-${hash}'`]);
    expect(body).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    // Served over plain HTTP: no HSTS and no request upgrade, which would break the local sample.
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(csp.has('upgrade-insecure-requests')).toBe(false);
  });

  it('forbids framing every page, the admin page included', async () => {
    const browser = new Browser();
    const picker = await browser.go(`${sample.url}/auth/oidc/acme-oidc/login`);
    await browser.pick(picker, 'u1001');
    const admin = await browser.fetch(`${sample.url}/admin`);
    expect(admin.status).toBe(200);
    expect(admin.headers.get('x-frame-options')).toBe('DENY');
    expect(directives(admin.headers.get('content-security-policy')).get('frame-ancestors')).toEqual([
      "'none'",
    ]);
    const refused = await fetch(`${sample.url}/admin`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('the sample app’s answer to malformed requests', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  async function answer(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = await fetch(`${sample.url}${path}`, init);
      const body = await res.text();
      return {
        status: res.status,
        body,
        logged: [...warn.mock.calls, ...error.mock.calls].map((args) => args.map(String).join(' ')),
        errors: error.mock.calls.length,
      };
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
  }

  function expectNoStack(result: { body: string; logged: string[]; errors: number }) {
    expect(result.body).not.toMatch(/\bat .+\(.*:\d+:\d+\)|node_modules/);
    expect(result.errors).toBe(0);
    expect(result.logged.length).toBeLessThanOrEqual(1);
    for (const line of result.logged) expect(line).not.toContain('\n');
  }

  it('answers 413 to a 2 MB form post', async () => {
    const result = await answer('/auth/saml/acme-saml/acs', {
      method: 'POST',
      headers: form,
      body: `SAMLResponse=${'a'.repeat(2 * 1024 * 1024)}`,
    });
    expect(result.status).toBe(413);
    expect(textOf(result.body, 'error-code')).toBe('PAYLOAD_TOO_LARGE');
    expectNoStack(result);
  });

  it('answers 400 to a bad %-encoding in the path', async () => {
    for (const path of ['/auth/oidc/%ZZ/login', '/auth/saml/%E0%A4%A/acs']) {
      const result = await answer(path, { method: path.endsWith('acs') ? 'POST' : 'GET' });
      expect(result.status).toBe(400);
      expect(textOf(result.body, 'error-code')).toBe('BAD_REQUEST');
      expectNoStack(result);
    }
  });

  it('answers 415 to a body in an unknown charset, in JSON to an API client', async () => {
    const result = await answer('/auth/saml/acme-saml/acs', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=latin9',
        accept: 'application/json',
      },
      body: 'a=b',
    });
    expect(result.status).toBe(415);
    expect(JSON.parse(result.body)).toEqual({
      error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported charset "LATIN9"' },
    });
    expectNoStack(result);
  });
});
