import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { createProvisioner, MemoryStore, type UserRecord } from '@jit-sso/core';
import {
  createOidcStrategies,
  createSamlStrategy,
  jitErrorHandler,
  MemoryReplayCache,
  oidcAuthenticate,
  requireActiveUser,
  samlAuthenticate,
  useJitSession,
} from '@jit-sso/express';
import { run } from '@jit-sso/cli';
import { startDevIdp, type DevIdp } from '@jit-sso/dev-idp';
import { Browser } from '@jit-sso/dev-idp/testing';

// The operator's path: import the IdP's SAML metadata and OIDC discovery with the `jit` command, check
// the file, start an app on it unchanged, and sign in over both protocols.

let dir: string;
let server: Server;
let appUrl: string;
let idp: DevIdp;
const configFile = () => join(dir, 'jit.config.json');

async function jit(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const err = new PassThrough().setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await run(argv, { stdout: out, stderr: err, env, interactive: false, progressBars: false });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-cli-import-'));
  // The app's URL goes into the connections and the IdP's registrations, so its port comes first.
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp = await startDevIdp({
    oidcClients: [
      {
        clientId: 'cli-app',
        clientSecret: 'cli-app-secret',
        redirectUris: [`${appUrl}/auth/oidc/acme-oidc/callback`],
      },
    ],
    samlServiceProviders: [
      {
        entityId: `${appUrl}/auth/saml/acme-saml/metadata`,
        acsUrls: [`${appUrl}/auth/saml/acme-saml/acs`],
      },
    ],
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('jit connection import, then an Express app on the file it wrote', () => {
  it('imports the dev IdP over both protocols into a file that passes check', async () => {
    const common = [
      '--tenant',
      'acme',
      '--domain',
      'acme.test',
      '--app-url',
      appUrl,
      '--config',
      configFile(),
    ];
    const saml = await jit([
      'connection',
      'import',
      '--saml-metadata',
      idp.saml.entityId,
      '--id',
      'acme-saml',
      ...common,
    ]);
    expect(saml.code, saml.stderr).toBe(0);
    const oidc = await jit(
      [
        'connection',
        'import',
        '--oidc-discovery',
        idp.oidc.issuer,
        '--id',
        'acme-oidc',
        '--client-id',
        'cli-app',
        '--client-secret-env',
        'ACME_CLIENT_SECRET',
        ...common,
      ],
      { ACME_CLIENT_SECRET: 'cli-app-secret' },
    );
    expect(oidc.code, oidc.stderr).toBe(0);
    const check = await jit(['connection', 'check', configFile()]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toBe('');
  });

  it('signs in over SAML and OIDC through the imported connections', async () => {
    const config = JSON.parse(readFileSync(configFile(), 'utf8'));
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      tenants: config.tenants,
      connections: config.connections,
    });
    const passport = new Passport();
    useJitSession(passport, provisioner);
    passport.use(createSamlStrategy({ provisioner, replayCache: new MemoryReplayCache() }));
    const oidc = createOidcStrategies({ provisioner });
    const app = express();
    app.use(session({ secret: 'round-trip', resave: false, saveUninitialized: false }));
    app.use(passport.initialize(), passport.session());
    const signedIn: express.RequestHandler = (_req, res) => res.redirect(303, '/me');
    app.get('/auth/saml/:connection/login', samlAuthenticate(passport, { provisioner }));
    app.post(
      '/auth/saml/:connection/acs',
      express.urlencoded({ extended: false }),
      samlAuthenticate(passport, { provisioner }),
      signedIn,
    );
    app.get('/auth/oidc/:connection/login', oidcAuthenticate(passport, oidc, { provisioner }));
    app.get('/auth/oidc/:connection/callback', oidcAuthenticate(passport, oidc, { provisioner }), signedIn);
    app.get('/me', requireActiveUser(provisioner), (req, res) => res.json(req.user));
    app.use(jitErrorHandler());
    server.on('request', app);

    const signIn = async (login: string, person: string) => {
      const browser = new Browser();
      const picker = await browser.go(`${appUrl}${login}`);
      expect(picker.url.startsWith(idp.url), picker.body.slice(0, 300)).toBe(true);
      const me = await browser.pick(picker, person);
      expect(me.url, me.body.slice(0, 300)).toBe(`${appUrl}/me`);
      expect(me.status).toBe(200);
      return JSON.parse(me.body) as UserRecord;
    };
    const alice = await signIn('/auth/saml/acme-saml/login', 'u1001');
    expect(alice).toMatchObject({ email: 'alice@acme.test', tenantId: 'acme', status: 'active' });
    const bob = await signIn('/auth/oidc/acme-oidc/login', 'u1002');
    expect(bob).toMatchObject({ email: 'bob@acme.test', tenantId: 'acme', status: 'active' });
  });
});
