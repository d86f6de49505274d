import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import { defaultSamlKeys, startDevIdp, type DevIdp } from '@jit-sso/dev-idp';
import { Browser } from '@jit-sso/dev-idp/testing';
import type { ConsumerApp, RunningApp } from './consumer.js';

const CONNECTIONS = new URL('../apps/connections.json', import.meta.url);
const OIDC_CLIENT = { clientId: 'consumer-app', clientSecret: 'consumer-app-secret' };

/** A TCP port on 127.0.0.1 that was free a moment ago. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Writes the app's `connections.json`: a SAML and an OIDC connection of tenant `acme` to the dev IdP. */
export async function writeConnections(consumer: ConsumerApp, appUrl: string, idpUrl: string): Promise<void> {
  const values: Record<string, string> = {
    APP_URL: appUrl,
    DEV_IDP_URL: idpUrl,
    DEV_IDP_SAML_CERT: defaultSamlKeys().certificate,
    OIDC_CLIENT_ID: OIDC_CLIENT.clientId,
    OIDC_CLIENT_SECRET: OIDC_CLIENT.clientSecret,
  };
  const template = await readFile(CONNECTIONS, 'utf8');
  await consumer.writeFile(
    'connections.json',
    template.replace(/\$\{(\w+)\}/g, (_, name: string) => JSON.stringify(values[name]).slice(1, -1)),
  );
}

/** A consumer app running against the dev IdP, with the connections file written for both. */
export interface SignInEnvironment {
  readonly url: string;
  readonly idp: DevIdp;
  readonly app: RunningApp;
  readonly databaseUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the dev IdP (in this process, from the workspace) with the app registered as its OIDC
 * client and SAML service provider, writes the app's `connections.json`, and starts the app with
 * `node <entry>` on a free port and a new SQLite file.
 */
export async function startWithDevIdp(
  consumer: ConsumerApp,
  entry: string,
  options: { env?: Record<string, string>; database?: string; nodeOptions?: string[] } = {},
): Promise<SignInEnvironment> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const idp = await startDevIdp({
    oidcClients: [{ ...OIDC_CLIENT, redirectUris: [`${url}/auth/oidc/acme-oidc/callback`] }],
    samlServiceProviders: [
      { entityId: `${url}/auth/saml/acme-saml/metadata`, acsUrls: [`${url}/auth/saml/acme-saml/acs`] },
    ],
  });
  try {
    await writeConnections(consumer, url, idp.url);
    const databaseUrl = `sqlite:${join(consumer.dir, options.database ?? 'app.sqlite')}`;
    const app = await consumer.start(
      entry,
      {
        PORT: String(port),
        APP_URL: url,
        DATABASE_URL: databaseUrl,
        SESSION_SECRET: randomBytes(24).toString('base64url'),
        ...options.env,
      },
      options.nodeOptions,
    );
    return {
      url,
      idp,
      app,
      databaseUrl,
      close: async () => {
        await app.stop();
        await idp.close();
      },
    };
  } catch (error) {
    await idp.close();
    throw error;
  }
}

export interface Me {
  id: string;
  email: string;
  roles: { role: string }[];
}

async function me(browser: Browser, url: string): Promise<{ status: number; body: unknown }> {
  const res = await browser.fetch(`${url}/me`, { headers: { accept: 'application/json' } });
  return { status: res.status, body: await res.json() };
}

/** Signs `person` in through the app's login route and returns the app's `/me` answer. */
export async function signIn(env: SignInEnvironment, protocol: 'saml' | 'oidc', person: string) {
  const browser = new Browser();
  const picker = await browser.go(`${env.url}/auth/${protocol}/acme-${protocol}/login`);
  expect(picker.url, env.app.output).toContain(env.idp.url);
  const landed = await browser.pick(picker, person);
  expect(landed.url, `${landed.body.slice(0, 500)}\n${env.app.output}`).toBe(`${env.url}/`);
  const answer = await me(browser, env.url);
  expect(answer.status, `${JSON.stringify(answer.body)}\n${env.app.output}`).toBe(200);
  return { browser, user: answer.body as Me };
}

const roles = (user: Me) => user.roles.map((g) => g.role).sort();

/**
 * The whole journey every consumer app must pass: Alice signs in over SAML and Bob over OIDC, each
 * account created with the roles the connection's rules grant; with a SCIM token issued by the
 * installed `jit` command, the app's SCIM mount provisions Alice as deactivated, which takes her
 * account over, and her session ends at her next request while Bob's goes on.
 */
export async function signInEndToEnd(consumer: ConsumerApp, env: SignInEnvironment): Promise<void> {
  const alice = await signIn(env, 'saml', 'u1001');
  expect(alice.user.email).toBe('alice@acme.test');
  expect(roles(alice.user)).toEqual(['admin', 'member']);

  const bob = await signIn(env, 'oidc', 'u1002');
  expect(bob.user.email).toBe('bob@acme.test');
  expect(roles(bob.user)).toEqual(['member']);

  const { token } = JSON.parse(
    await consumer.bin('jit', [
      'scim',
      'token',
      'create',
      '--tenant',
      'acme',
      '--connection',
      'acme-saml',
      '--json',
      '--database-url',
      env.databaseUrl,
    ]),
  ) as { token: string };
  const scim = (path: string, init: RequestInit = {}) =>
    fetch(`${env.url}/scim/v2${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    });
  // The directory provisions Alice, whom a login created, as deactivated: it takes her account over.
  const created = await scim('/Users', {
    method: 'POST',
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'alice@acme.test',
      externalId: 'idp-u1001',
      emails: [{ value: 'alice@acme.test', type: 'work', primary: true }],
      active: false,
    }),
  });
  expect(created.status, env.app.output).toBe(201);
  expect(await created.json()).toMatchObject({ id: alice.user.id, active: false });

  const ended = await me(alice.browser, env.url);
  expect(ended.status).toBe(401);
  expect(ended.body).toMatchObject({ error: { code: 'SESSION_ENDED' } });
  expect((await me(bob.browser, env.url)).status).toBe(200);
}
