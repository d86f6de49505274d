import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSample, type Sample } from '@jit-sso/sample-express';

// Debian's Chromium (apt-get install chromium); no browser download.
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'];
const SHOTS = process.env['JIT_SCREENSHOTS'] ? resolve(process.env['JIT_SCREENSHOTS']) : null;

let browser: Browser;
let dir: string;
let sample: Sample;
let page: Page;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-portal-'));
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  sample = await startSample({ port: 0, databaseUrl: `sqlite:${join(dir, 'portal.sqlite')}` });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 760 } })).newPage();
});

afterAll(async () => {
  await browser?.close();
  await sample?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS ?? dir, `${name}.png`), fullPage: true });
const card = () => page.locator('.connection[data-connection="acme-okta"]');

/** Through the local IdP's person picker, back to the app. */
async function pick(givenName: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(sample.idp!.url));
  await page.getByRole('button', { name: `Sign in as ${givenName}` }).click();
  await page.waitForURL((url) => url.origin === new URL(sample.url).origin);
}

describe('the admin portal of the Express sample, in a browser', () => {
  it('lets Acme’s IT administrator add a SAML connection by pasting the IdP’s metadata URL', async () => {
    await page.goto(sample.url);
    await page.click('a[data-connection="acme-oidc"]');
    await pick('Alice');
    await page.goto(`${sample.url}/portal`);
    expect(await page.locator('h1').textContent()).toContain('SSO setup for acme');
    expect(await page.inputValue('#metadataUrl')).toBe(sample.idp!.saml.metadataUrl);
    await page.getByRole('button', { name: 'Create from metadata' }).click();
    await expect.poll(() => page.locator('#portal-notice').textContent()).toContain('acme-okta');
    expect(await card().locator('dd code').first().textContent()).toBe(
      `${sample.url}/auth/saml/acme-okta/acs`,
    );
    expect(await card().textContent()).toContain('none yet');
    await shot('portal-connection');
  });

  it('verifies a domain through its DNS TXT record', async () => {
    await page.fill('input[name="domain"]', 'acme.test');
    await page.getByRole('button', { name: 'Claim domain' }).click();
    const row = page.locator('tr[data-domain="acme.test"]');
    expect((await row.locator('[data-status]').textContent())?.trim()).toBe('pending');
    await row.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.locator('#portal-error .code').textContent()).toBe('DOMAIN_NOT_VERIFIED');
    await shot('portal-domain-pending');
    await page
      .locator('tr[data-domain="acme.test"]')
      .getByRole('button', { name: 'Publish in demo DNS' })
      .click();
    await page.locator('tr[data-domain="acme.test"]').getByRole('button', { name: 'Verify' }).click();
    await expect
      .poll(async () =>
        (await page.locator('tr[data-domain="acme.test"] [data-status]').textContent())?.trim(),
      )
      .toBe('verified');
    expect(await card().textContent()).toContain('acme.test');
  });

  it('runs a test sign-in: the decision is shown and nobody is signed in', async () => {
    await card().locator('[data-test-sign-in]').click();
    await pick('Bob');
    await page.locator('#test-result').waitFor();
    expect(await page.locator('#test-result [data-action]').getAttribute('data-action')).toBe('created');
    expect(await page.locator('#test-roles [data-role]').allTextContents()).toEqual(['viewer']);
    await shot('portal-test-sign-in');
    expect(await sample.provisioner.store.findUserByEmail('acme', 'bob@acme.test')).toBeNull();
  });

  it('maps a group to a role with a preview of the last sign-in, then saves it', async () => {
    await page.goto(`${sample.url}/portal`);
    await card().locator('input[name="group"]').fill('acme-staff');
    await card().locator('input[name="role"]').fill('member');
    await card().getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => page.locator('#preview [data-role]').allTextContents()).toEqual(['member']);
    await shot('portal-preview');
    await card().locator('input[name="group"]').fill('acme-staff');
    await card().locator('input[name="role"]').fill('member');
    await card().getByRole('button', { name: 'Save rule' }).click();
    await expect
      .poll(() => card().locator('[data-rule="acme-staff"]').textContent())
      .toBe('acme-staff → member');
  });

  it('shows the recent sign-in attempts, attribute values redacted', async () => {
    const attempts = card().locator('table.attempts tbody tr');
    expect(await attempts.count()).toBe(1);
    expect(await attempts.first().textContent()).toContain('created (test)');
    expect(await attempts.first().textContent()).toContain('•••@acme.test');
    expect(await attempts.first().textContent()).not.toContain('Bob');
    await card().scrollIntoViewIfNeeded();
    await shot('portal-attempts');
  });
});
