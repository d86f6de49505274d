import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSample, type Sample, type SampleOptions } from '@jit-sso/sample-express';
import { startNestSample } from '@jit-sso/sample-nest';

// Debian's Chromium (apt-get install chromium); no browser download.
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `npm run screenshots -w @jit-sso/browser-tests` writes them to docs/screenshots; otherwise to a temporary folder. */
const SHOTS = process.env['JIT_SCREENSHOTS'] ? resolve(process.env['JIT_SCREENSHOTS']) : null;

let browser: Browser;
let dir: string;
// The sample under test: each `describe` below starts its own.
let sample: Sample;
let screenshots = false;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-browser-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function newPerson(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  return { context, page: await context.newPage() };
}

async function shot(page: Page, name: string): Promise<void> {
  if (screenshots) await page.screenshot({ path: join(SHOTS ?? dir, `${name}.png`), fullPage: true });
}

type ConnectionId = 'acme-oidc' | 'acme-saml';

/** From the sample's home page, through the IdP's person picker, back to the app. */
async function signIn(
  page: Page,
  connection: ConnectionId,
  givenName: string,
  screenshot?: string,
): Promise<void> {
  await page.goto(sample.url);
  await page.click(`a[data-connection="${connection}"]`);
  await page.waitForURL((url) => url.href.startsWith(sample.idp!.url));
  await expect.poll(() => page.locator('h1').textContent()).toContain('Sign in to');
  if (screenshot) await shot(page, screenshot);
  await page.getByRole('button', { name: `Sign in as ${givenName}` }).click();
  // Redirects are not committed: the first page of the app's origin is the profile or the refusal.
  await page.waitForURL((url) => url.origin === new URL(sample.url).origin);
  await page.locator('#last-login, #error-code').first().waitFor();
}

const action = (page: Page) => page.locator('#last-login [data-action]').getAttribute('data-action');
const roles = (page: Page) =>
  page.locator('#roles [data-role]').evaluateAll((els) => els.map((e) => e.getAttribute('data-role')));
const errorCode = (page: Page) => page.locator('#error-code').textContent();

const SAMPLES: [string, (options: SampleOptions) => Promise<Sample>][] = [
  ['Express', startSample],
  ['NestJS', startNestSample],
];

describe.each(SAMPLES)('the %s sample in a browser', (name, start) => {
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    sample = await start({ port: 0, databaseUrl: `sqlite:${join(dir, `${name}.sqlite`)}` });
    // The Express sample's pages are the documentation's screenshots (both samples share them).
    screenshots = name === 'Express';
  });

  afterAll(async () => {
    await sample?.close();
  });

  it('shows one "Sign in with SSO" button per connection', async () => {
    const { page } = await newPerson();
    await page.goto(sample.url);
    await expect
      .poll(() => page.locator('a[data-connection]').allTextContents())
      .toEqual(['Sign in with SSO — Acme (OIDC)', 'Sign in with SSO — Acme (SAML)']);
    await shot(page, 'home');
  });

  it('creates Alice at her first OIDC sign-in, with the roles her groups grant', async () => {
    ({ page: alice } = await newPerson());
    await signIn(alice, 'acme-oidc', 'Alice', 'idp-login');
    expect(new URL(alice.url()).pathname).toBe('/profile');
    expect(await action(alice)).toBe('created');
    expect(await roles(alice)).toEqual(['admin', 'member']);
    expect(await alice.locator('[data-field="email"]').textContent()).toBe('alice@acme.test');
    expect(await alice.locator('#audit tr[data-action="created"]').count()).toBe(1);
    await shot(alice, 'profile');
  });

  it('links Alice’s account when she signs in through SAML', async () => {
    await signIn(alice, 'acme-saml', 'Alice');
    expect(await action(alice)).toBe('linked');
    expect(await alice.locator('#audit tr[data-action="linked"]').count()).toBe(1);
  });

  it('lists users and audit events on the admin page', async () => {
    await alice.goto(`${sample.url}/admin`);
    expect(await alice.locator('#users tr[data-email="alice@acme.test"]').count()).toBe(1);
    expect(await alice.locator('#audit tr[data-action]').count()).toBeGreaterThanOrEqual(2);
  });

  it('updates Bob’s roles at his next sign-in after his group changes at the IdP', async () => {
    ({ page: bob } = await newPerson());
    await signIn(bob, 'acme-saml', 'Bob');
    expect(await action(bob)).toBe('created');
    expect(await roles(bob)).toEqual(['member']);
    await bob.goto(`${sample.url}/admin`);
    expect(await bob.locator('h1').textContent()).toBe('Administrators only');

    await bob.goto(`${sample.idp!.url}/admin`);
    const row = bob.locator('tr[data-person="u1002"]');
    await row.locator('input[type="checkbox"][value="acme-admins"]').check();
    await row.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => bob.locator('[role="status"]').textContent()).toContain('Saved Bob Member');
    await shot(bob, 'idp-admin');

    await signIn(bob, 'acme-saml', 'Bob');
    expect(await action(bob)).toBe('updated');
    expect(await roles(bob)).toEqual(['admin', 'member']);
    expect(await bob.locator('#last-login').textContent()).toContain('roles');
  });

  it('gives Erin, in no group, the default role', async () => {
    const { page } = await newPerson();
    await signIn(page, 'acme-oidc', 'Erin');
    expect(await roles(page)).toEqual(['viewer']);
  });

  it('refuses Carol, whose domain is not verified, saying what an administrator would fix', async () => {
    const { page } = await newPerson();
    await signIn(page, 'acme-oidc', 'Carol');
    expect(await errorCode(page)).toBe('DOMAIN_NOT_ALLOWED');
    expect(await page.locator('#error-message').textContent()).toContain('"contractor.test"');
    expect(await page.locator('#error-hint').textContent()).toContain('Add and verify the email domain');
    await shot(page, 'refused');
  });

  it('does not link Dave’s account through an IdP that has not verified his email', async () => {
    const { page } = await newPerson();
    await signIn(page, 'acme-saml', 'Dave');
    expect(await action(page)).toBe('created');
    await signIn(page, 'acme-oidc', 'Dave');
    expect(await errorCode(page)).toBe('EMAIL_NOT_VERIFIED');
  });

  it('ends Bob’s session when the directory deactivates him through SCIM', async () => {
    const scim = `${sample.url}/scim/v2`;
    const headers = { authorization: `Bearer ${sample.scim.token}`, 'content-type': 'application/scim+json' };
    // The directory provisions Bob, whom his logins created; it takes his account over.
    const created = await fetch(`${scim}/Users`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'bob@acme.test',
        name: { givenName: 'Bob', familyName: 'Member' },
        displayName: 'Bob Member',
        emails: [{ value: 'bob@acme.test', type: 'work', primary: true }],
        active: true,
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await bob.goto(`${sample.url}/profile`);
    expect(await bob.locator('#user').getAttribute('data-user-id')).toBe(id);

    const patched = await fetch(`${scim}/Users/${id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      }),
    });
    expect(patched.status).toBeLessThan(300);

    await bob.goto(`${sample.url}/profile`);
    expect(await errorCode(bob)).toBe('SESSION_ENDED');
    await shot(bob, 'session-ended');
    await signIn(bob, 'acme-saml', 'Bob');
    expect(await errorCode(bob)).toBe('USER_DEACTIVATED');
  });

  it('shows every decision, refusals included, in the admin page’s audit events', async () => {
    await alice.goto(`${sample.url}/admin`);
    const actions = await alice
      .locator('#audit tr[data-action]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    expect(new Set(actions)).toEqual(new Set(['created', 'linked', 'updated', 'denied', 'deactivated']));
    expect(await alice.locator('#audit code', { hasText: 'DOMAIN_NOT_ALLOWED' }).count()).toBe(1);
    expect(await alice.locator('#users tr[data-email="bob@acme.test"] td.bad').textContent()).toBe(
      'deactivated',
    );
    await shot(alice, 'admin');
  });

  it('signs Alice out', async () => {
    await alice.goto(`${sample.url}/profile`);
    await alice.getByRole('button', { name: 'Sign out' }).click();
    await alice.waitForURL(`${sample.url}/`);
    expect(await alice.locator('.who').textContent()).toContain('not signed in');
  });
});
