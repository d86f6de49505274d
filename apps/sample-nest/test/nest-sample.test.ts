import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { STYLE_HASH, type Sample } from '@jit-sso/sample-express';
import { startNestSample } from '../src/index.js';
import { Browser, textOf, type Page } from '@jit-sso/dev-idp/testing';

let sample: Sample;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-sample-nest-'));
  sample = await startNestSample({
    port: 0,
    databaseUrl: `sqlite:${join(dir, 'sample.sqlite')}`,
    scimToken: 'nest-demo-token-0123456789abcdefgh',
  });
});

afterAll(async () => {
  await sample?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function signIn(
  browser: Browser,
  connection: 'acme-oidc' | 'acme-saml',
  person: string,
): Promise<Page> {
  const protocol = connection === 'acme-oidc' ? 'oidc' : 'saml';
  const picker = await browser.go(`${sample.url}/auth/${protocol}/${connection}/login`);
  expect(picker.url.startsWith(sample.idp!.url)).toBe(true);
  return browser.pick(picker, person);
}

const actionOf = (page: Page) => /id="last-login"[\s\S]*?data-action="(\w+)"/.exec(page.body)?.[1];
const rolesOf = (page: Page) => [...page.body.matchAll(/data-role="([^"]+)"/g)].map((m) => m[1]);

describe('the Nest sample', () => {
  it('shows the same home page', async () => {
    const home = await new Browser().go(sample.url);
    expect(home.body).toContain('Sign in with SSO — Acme (OIDC)');
    expect(home.body).toContain('Sign in with SSO — Acme (SAML)');
  });

  it('answers 413 to a 2 MB form post and 400 to a bad %-encoding, logging no stack trace', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const big = await fetch(`${sample.url}/auth/saml/acme-saml/acs`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `SAMLResponse=${'a'.repeat(2 * 1024 * 1024)}`,
      });
      expect(big.status).toBe(413);
      const bad = await fetch(`${sample.url}/auth/oidc/%ZZ/login`);
      expect(bad.status).toBe(400);
      expect(await bad.text()).not.toMatch(/\bat .+:\d+:\d+/);
      expect(error).not.toHaveBeenCalled();
    } finally {
      error.mockRestore();
    }
  });

  it('sends the Express sample’s security headers', async () => {
    const res = await fetch(`${sample.url}/admin`);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).toContain(`style-src '${STYLE_HASH}'`);
  });

  it('creates through OIDC, links through SAML, and shows the profile and the admin page', async () => {
    const browser = new Browser();
    const created = await signIn(browser, 'acme-oidc', 'u1001');
    expect(created.url).toBe(`${sample.url}/profile`);
    expect(actionOf(created)).toBe('created');
    expect(rolesOf(created)).toEqual(['admin', 'member']);
    const linked = await signIn(browser, 'acme-saml', 'u1001');
    expect(actionOf(linked)).toBe('linked');
    const admin = await browser.go(`${sample.url}/admin`);
    expect(admin.status).toBe(200);
    expect(admin.body).toContain('data-email="alice@acme.test"');
  });

  it('updates roles after a group change at the IdP', async () => {
    const browser = new Browser();
    expect(rolesOf(await signIn(browser, 'acme-saml', 'u1002'))).toEqual(['member']);
    expect((await browser.go(`${sample.url}/admin`)).status).toBe(403);
    sample.idp!.people.update('u1002', { groups: ['acme-admins'] });
    try {
      const again = await signIn(browser, 'acme-saml', 'u1002');
      expect(actionOf(again)).toBe('updated');
      expect(rolesOf(again)).toEqual(['admin']);
    } finally {
      sample.idp!.people.update('u1002', { groups: ['acme-staff'] });
    }
  });

  it('shows a refusal with its code and what an administrator would fix', async () => {
    const refused = await signIn(new Browser(), 'acme-oidc', 'u1004');
    expect(refused.status).toBe(403);
    expect(textOf(refused.body, 'error-code')).toBe('DOMAIN_NOT_ALLOWED');
    expect(textOf(refused.body, 'error-hint')).toContain('Add and verify the email domain');
  });

  it('ends the session when SCIM deactivates the account', async () => {
    const browser = new Browser();
    const profile = await signIn(browser, 'acme-oidc', 'u1003');
    const userId = /data-user-id="([^"]+)"/.exec(profile.body)![1];
    const headers = {
      authorization: 'Bearer nest-demo-token-0123456789abcdefgh',
      'content-type': 'application/scim+json',
    };
    const created = await fetch(`${sample.url}/scim/v2/Users`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'erin@acme.test',
        emails: [{ value: 'erin@acme.test', primary: true }],
        active: true,
      }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { id: string }).id).toBe(userId);
    const patched = await fetch(`${sample.url}/scim/v2/Users/${userId}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      }),
    });
    expect(patched.status).toBeLessThan(300);
    const ended = await browser.go(`${sample.url}/profile`);
    expect(ended.status).toBe(401);
    expect(textOf(ended.body, 'error-code')).toBe('SESSION_ENDED');
  });

  it('signs out', async () => {
    const browser = new Browser();
    await signIn(browser, 'acme-oidc', 'u1002');
    const asked = await browser.go(`${sample.url}/logout`);
    expect(asked.status).toBe(405);
    expect((await browser.go(`${sample.url}/profile`)).status).toBe(200);
    const out = await browser.fetch(`${sample.url}/logout`, { method: 'POST' });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().join()).toMatch(/^jit-sample\.sid=;.*Expires=Thu, 01 Jan 1970/);
    const home = await browser.go(new URL(out.headers.get('location')!, sample.url).href);
    expect(home.body).toContain('not signed in');
    expect((await browser.go(`${sample.url}/profile`)).status).toBe(401);
  });
});
