import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSample, type Sample } from '../src/index.js';
import { Browser, textOf, type Page } from '@jit-sso/dev-idp/testing';

let sample: Sample;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-sample-'));
  sample = await startSample({ port: 0, databaseUrl: `sqlite:${join(dir, 'sample.sqlite')}` });
});

afterAll(async () => {
  await sample?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(
  browser: Browser,
  connection: 'acme-oidc' | 'acme-saml',
  person: string,
): Promise<Page> {
  const protocol = connection === 'acme-oidc' ? 'oidc' : 'saml';
  const picker = await browser.go(`${sample.url}/auth/${protocol}/${connection}/login`);
  expect(picker.url.startsWith(sample.idp!.url)).toBe(true);
  expect(picker.status).toBe(200);
  return browser.pick(picker, person);
}

const actionOf = (page: Page) => /id="last-login"[\s\S]*?data-action="(\w+)"/.exec(page.body)?.[1];
const rolesOf = (page: Page) => [...page.body.matchAll(/data-role="([^"]+)"/g)].map((m) => m[1]);

describe('the sample app', () => {
  it('shows one sign-in button per connection on the home page', async () => {
    const home = await new Browser().go(sample.url);
    expect(home.status).toBe(200);
    expect(home.body).toContain('href="/auth/oidc/acme-oidc/login"');
    expect(home.body).toContain('Sign in with SSO — Acme (OIDC)');
    expect(home.body).toContain('href="/auth/saml/acme-saml/login"');
    expect(home.body).toContain(`${sample.url}/scim/v2`);
  });

  it('creates an account at the first OIDC sign-in and shows roles, action and audit on the profile', async () => {
    const browser = new Browser();
    const profile = await signIn(browser, 'acme-oidc', 'u1001');
    expect(profile.url).toBe(`${sample.url}/profile`);
    expect(profile.status).toBe(200);
    expect(actionOf(profile)).toBe('created');
    expect(rolesOf(profile)).toEqual(['admin', 'member']);
    expect(profile.body).toContain('alice@acme.test');
    expect(profile.body).toContain('<code>u1001</code>');
    expect(profile.body).toMatch(/<tr data-action="created">/);
    const admin = await browser.go(`${sample.url}/admin`);
    expect(admin.status).toBe(200);
    expect(admin.body).toContain('data-email="alice@acme.test"');
  });

  it('links the same person signing in through SAML (the connection is authoritative for acme.test)', async () => {
    const profile = await signIn(new Browser(), 'acme-saml', 'u1001');
    expect(actionOf(profile)).toBe('linked');
    expect(profile.body).toContain('acme-oidc');
    expect(profile.body).toContain('acme-saml');
  });

  it('updates roles when the group changes at the IdP and the person signs in again', async () => {
    const browser = new Browser();
    const first = await signIn(browser, 'acme-saml', 'u1002');
    expect(actionOf(first)).toBe('created');
    expect(rolesOf(first)).toEqual(['member']);
    const forbidden = await browser.go(`${sample.url}/admin`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toContain('Administrators only');

    const saved = await browser.post(`${sample.idp!.url}/admin/people/u1002`, {
      groups: 'acme-admins',
      active: 'true',
    });
    expect(saved.body).toContain('Saved Bob Member');
    try {
      const again = await signIn(browser, 'acme-saml', 'u1002');
      expect(actionOf(again)).toBe('updated');
      expect(rolesOf(again)).toEqual(['admin']);
      expect(again.body).toContain('<code>roles</code> [member] → [admin]');
      expect((await browser.go(`${sample.url}/admin`)).status).toBe(200);
    } finally {
      sample.idp!.people.update('u1002', { groups: ['acme-staff'] });
    }
  });

  it('gives the default role to a person in no group', async () => {
    const profile = await signIn(new Browser(), 'acme-oidc', 'u1003');
    expect(rolesOf(profile)).toEqual(['viewer']);
  });

  it('refuses an email on an unverified domain with the code and what an administrator would fix', async () => {
    const refused = await signIn(new Browser(), 'acme-oidc', 'u1004');
    expect(refused.status).toBe(403);
    expect(textOf(refused.body, 'error-code')).toBe('DOMAIN_NOT_ALLOWED');
    expect(textOf(refused.body, 'error-message')).toContain('"contractor.test" is not a verified domain');
    expect(textOf(refused.body, 'error-hint')).toContain('Add and verify the email domain');
  });

  it('refuses to link an existing account through an IdP that says the email is not verified', async () => {
    const created = await signIn(new Browser(), 'acme-saml', 'u1005');
    expect(actionOf(created)).toBe('created');
    const refused = await signIn(new Browser(), 'acme-oidc', 'u1005');
    expect(refused.status).toBe(403);
    expect(textOf(refused.body, 'error-code')).toBe('EMAIL_NOT_VERIFIED');
  });

  it('records refusals in the audit trail shown to administrators', async () => {
    const browser = new Browser();
    await signIn(browser, 'acme-oidc', 'u1001');
    const admin = await browser.go(`${sample.url}/admin`);
    expect(admin.body).toContain('<code>DOMAIN_NOT_ALLOWED</code>');
    expect(admin.body).toContain('<code>EMAIL_NOT_VERIFIED</code>');
  });

  it('ends the session at the next request once the account is deactivated', async () => {
    const browser = new Browser();
    const profile = await signIn(browser, 'acme-oidc', 'u1003');
    const userId = /data-user-id="([^"]+)"/.exec(profile.body)![1]!;
    await sample.provisioner.deactivateUser(userId, { reason: 'test' });
    const ended = await browser.go(`${sample.url}/profile`);
    expect(ended.status).toBe(401);
    expect(textOf(ended.body, 'error-code')).toBe('SESSION_ENDED');
    const refused = await signIn(browser, 'acme-oidc', 'u1003');
    expect(textOf(refused.body, 'error-code')).toBe('USER_DEACTIVATED');
    await sample.provisioner.reactivateUser(userId);
  });

  it('signs out by POST, ending the session and clearing its cookie', async () => {
    const browser = new Browser();
    const profile = await signIn(browser, 'acme-oidc', 'u1002');
    expect(profile.body).toContain('<form method="post" action="/logout">');
    expect((await browser.fetch(`${sample.url}/profile`)).status).toBe(200);
    const out = await browser.fetch(`${sample.url}/logout`, { method: 'POST' });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/');
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith('jit-sample.sid='));
    expect(cleared).toMatch(
      /^jit-sample\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/,
    );
    const home = await browser.go(`${sample.url}/`);
    expect(home.body).toContain('not signed in');
    expect((await browser.go(`${sample.url}/profile`)).status).toBe(401);
  });

  it('does not sign out on a GET: it answers 405 with the sign-out button', async () => {
    const browser = new Browser();
    await signIn(browser, 'acme-oidc', 'u1002');
    const asked = await browser.fetch(`${sample.url}/logout`);
    expect(asked.status).toBe(405);
    expect(asked.headers.get('allow')).toBe('POST');
    expect(asked.headers.getSetCookie()).toEqual([]);
    expect(await asked.text()).toContain('<form method="post" action="/logout">');
    expect((await browser.go(`${sample.url}/profile`)).status).toBe(200);
  });

  it('answers JSON errors to API clients', async () => {
    const res = await fetch(`${sample.url}/profile`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'SESSION_ENDED' } });
  });
});
