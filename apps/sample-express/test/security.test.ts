import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '@jit-sso/dev-idp/testing';
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
