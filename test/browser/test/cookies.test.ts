import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Cookie, type Page } from 'playwright-core';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, startSample, type Sample, type SampleOptions } from '@jit-sso/sample-express';
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
  // The proxy's certificate is self-signed, made for this run.
  '--ignore-certificate-errors',
];
const LOGIN_COOKIE = '__Host-jit-sso-login';

/**
 * A TLS-terminating proxy, as in front of a deployed app: HTTPS on a free port, forwarded as plain
 * HTTP to the app with `X-Forwarded-Proto: https`. The app's port is set once the app runs (its
 * `PUBLIC_URL` needs the proxy's port first).
 */
async function startTlsProxy(): Promise<{ port: number; target: { port: number }; close(): Promise<void> }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 24 * 3600_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
  });
  const target = { port: 0 };
  const server: Server = createHttpsServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          'x-forwarded-proto': 'https',
          'x-forwarded-for': req.socket.remoteAddress ?? '',
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    target,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-browser-cookies-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Through the IdP's person picker (SAML: the login-binding cookie is set), back to the profile. */
async function signIn(page: Page, sample: Sample, url: string): Promise<void> {
  await page.goto(url);
  await page.click('a[data-connection="acme-saml"]');
  await page.waitForURL((next) => next.href.startsWith(sample.idp!.url));
  await page.getByRole('button', { name: 'Sign in as Alice' }).click();
  await page.waitForURL((next) => next.origin === new URL(url).origin && next.pathname === '/profile');
  await page.locator('#last-login').waitFor();
}

const named = (cookies: Cookie[], name: string) => cookies.find((cookie) => cookie.name === name);

/** Signs out with the header's button (a POST) and returns the cookies left for `url`. */
async function signOut(page: Page, context: BrowserContext, url: string): Promise<Cookie[]> {
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await page.waitForURL((next) => next.origin === new URL(url).origin && next.pathname === '/');
  return context.cookies(url);
}

const SAMPLES: [string, (options: SampleOptions) => Promise<Sample>][] = [
  ['Express', startSample],
  ['NestJS', startNestSample],
];

describe.each(SAMPLES)('the %s sample’s cookies', (name, start) => {
  it('behind a TLS proxy with PUBLIC_URL=https://…: Secure, HttpOnly, and the login binding __Host-', async () => {
    const proxy = await startTlsProxy();
    const publicUrl = `https://localhost:${proxy.port}`;
    const sample = await start({
      port: 0,
      publicUrl,
      databaseUrl: `sqlite:${join(dir, `${name}-https.sqlite`)}`,
    });
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      proxy.target.port = sample.port;
      const page = await context.newPage();
      await signIn(page, sample, publicUrl);
      const cookies = await context.cookies(publicUrl);
      expect(named(cookies, SESSION_COOKIE)).toMatchObject({
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'Lax',
      });
      // The ACS is posted from the IdP's page, cross-site: only a SameSite=None cookie reaches it.
      expect(named(cookies, LOGIN_COOKIE)).toMatchObject({
        domain: 'localhost',
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'None',
      });
      expect(named(cookies, 'jit-sso-login')).toBeUndefined();

      const left = await signOut(page, context, publicUrl);
      expect(named(left, SESSION_COOKIE)).toBeUndefined();
      await page.goto(`${publicUrl}/profile`);
      expect(await page.locator('#error-code').textContent()).toBe('SESSION_ENDED');
    } finally {
      await context.close();
      await sample.close();
      await proxy.close();
    }
  });
});

// Both samples take the cookies' attributes from the same `sessionCookie`; one NestJS sample per
// process (@nestjs/passport registers its session serializer on passport's global instance).
describe('the Express sample’s cookies', () => {
  it('over plain http (no PUBLIC_URL): HttpOnly and SameSite=Lax, but not Secure', async () => {
    const sample = await startSample({ port: 0, databaseUrl: `sqlite:${join(dir, 'Express-http.sqlite')}` });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signIn(page, sample, sample.url);
      const cookies = await context.cookies(sample.url);
      expect(named(cookies, SESSION_COOKIE)).toMatchObject({
        path: '/',
        secure: false,
        httpOnly: true,
        sameSite: 'Lax',
      });
      // A browser refuses SameSite=None without Secure: over http the binding is Lax, without __Host-.
      expect(named(cookies, 'jit-sso-login')).toMatchObject({
        path: '/',
        secure: false,
        httpOnly: true,
        sameSite: 'Lax',
      });
      expect(named(cookies, LOGIN_COOKIE)).toBeUndefined();

      const left = await signOut(page, context, sample.url);
      expect(named(left, SESSION_COOKIE)).toBeUndefined();
    } finally {
      await context.close();
      await sample.close();
    }
  });
});
