import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startDevIdp } from '@jit-sso/dev-idp';
import { ConsumerApp } from './consumer.js';
import {
  signIn,
  signInEndToEnd,
  startWithDevIdp,
  writeConnections,
  type SignInEnvironment,
} from './sign-in.js';

const INSTALL_TIMEOUT = 300_000;

export interface ConsumerSuiteOptions {
  /** The template folder under `apps/`. */
  app: string;
  /** The compiled entry point `node` runs. */
  entry?: string;
  /** The app has its own Jest tests, run with its installed `jest` after the sign-in. */
  jest?: boolean;
  /** The app runs a delivery worker when `DELIVER_WEBHOOKS=1`: a login's event reaches a receiver. */
  webhooks?: boolean;
  /**
   * The app serves the admin API under `/admin/api`, trusting the caller's `x-admin-actor` and
   * `x-admin-tenant` headers when started with `TRUST_ADMIN_HEADERS=1`.
   */
  admin?: boolean;
  /** Options `node` starts the app with, as production apps often do (a heap limit, say). */
  nodeOptions?: string[];
}

/** The dev IdP's SAML metadata document, as an administrator downloads it to upload it to the app. */
async function devIdpMetadata(): Promise<string> {
  const idp = await startDevIdp();
  try {
    const res = await fetch(idp.saml.metadataUrl);
    expect(res.status).toBe(200);
    return await res.text();
  } finally {
    await idp.close();
  }
}

/**
 * The admin API of a running app, as two tenants' administrators: one creates a SAML connection
 * from the dev IdP's uploaded metadata and lists it; the other is answered `NOT_FOUND` on it, and
 * the refusal is in the audit trail (read with the installed `jit audit export`).
 */
async function adminEndToEnd(consumer: ConsumerApp, env: SignInEnvironment): Promise<void> {
  const call = async (method: string, path: string, tenant: string, body?: unknown) => {
    const res = await fetch(`${env.url}/admin/api${path}`, {
      method,
      headers: {
        'x-admin-actor': `it-admin@${tenant}.test`,
        'x-admin-tenant': tenant,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const since = new Date(Date.now() - 1000).toISOString();
  const metadataXml = await (await fetch(env.idp.saml.metadataUrl)).text();
  const created = await call('POST', '/connections/saml', 'initech', { id: 'initech-sso', metadataXml });
  expect(created.status, `${JSON.stringify(created.body)}\n${env.app.output}`).toBe(201);
  expect(created.body.connection).toMatchObject({
    id: 'initech-sso',
    tenantId: 'initech',
    issuer: env.idp.saml.metadataUrl,
    serviceProvider: { acsUrl: `${env.url}/auth/saml/initech-sso/acs` },
  });
  const listed = await call('GET', '/connections', 'initech');
  expect(listed.body.map((c: { id: string }) => c.id)).toEqual(['initech-sso']);

  const refused = await call('GET', '/connections/initech-sso', 'globex');
  expect([refused.status, refused.body.error.code]).toEqual([404, 'NOT_FOUND']);
  const audit = await consumer.bin('jit', [
    'audit',
    'export',
    '--since',
    since,
    '--tenant',
    'globex',
    '--database-url',
    env.databaseUrl,
  ]);
  const events = audit
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { action: string; actor: string; subject: string; reason: string });
  expect(events.map((e) => [e.action, e.actor, e.subject, e.reason])).toEqual([
    ['denied', 'admin', 'it-admin@globex.test', 'ADMIN_CROSS_TENANT'],
  ]);
}

/** A local HTTP receiver of webhooks, answering 204. */
async function webhookReceiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * One consumer app from install to sign-in: a fresh project made from its template, `npm install`
 * of the tarballs and its framework versions, strict `tsc`, then `node` and the end-to-end journey.
 * The steps are separate tests in order, so a failure names the step.
 */
export function consumerSuite(title: string, options: ConsumerSuiteOptions): void {
  describe(title, () => {
    let consumer: ConsumerApp;

    beforeAll(async () => {
      consumer = await ConsumerApp.create(options.app, inject('tarballs'));
    });
    afterAll(async () => {
      await consumer?.remove();
    });

    it(
      'installs the packed packages with its framework versions, peer dependencies enforced',
      async () => {
        await consumer.install(inject('installEnv'));
      },
      INSTALL_TIMEOUT,
    );

    it('type-checks with strict tsc, library declarations included', async () => {
      await consumer.compile();
    }, 120_000);

    // With the admin API, the app started for the sign-in serves the admin step too.
    let running: SignInEnvironment | undefined;
    afterAll(async () => {
      await running?.close();
    });

    it('signs in over SAML and OIDC with plain node, and its SCIM mount ends a session', async () => {
      const env = await startWithDevIdp(consumer, options.entry ?? 'dist/main.js', {
        env: options.admin ? { TRUST_ADMIN_HEADERS: '1' } : {},
        nodeOptions: options.nodeOptions ?? [],
      });
      try {
        await signInEndToEnd(consumer, env);
      } finally {
        if (options.admin) running = env;
        else await env.close();
      }
    }, 60_000);

    if (options.admin) {
      it("serves the admin API: a connection from uploaded metadata, another tenant's refusal audited", async () => {
        expect(running, 'the app of the sign-in step').toBeDefined();
        try {
          await adminEndToEnd(consumer, running!);
        } finally {
          await running!.close();
          running = undefined;
        }
      }, 60_000);
    }

    if (options.webhooks) {
      it('delivers the user.created of a login as a Standard Webhook, from a worker of the packed packages', async () => {
        const receiver = await webhookReceiver();
        const env = await startWithDevIdp(consumer, options.entry ?? 'dist/main.js', {
          env: { DELIVER_WEBHOOKS: '1' },
          database: 'webhooks.sqlite',
        });
        try {
          // Registered with the installed `jit` command (a local receiver: --development).
          const { secret } = JSON.parse(
            await consumer.bin('jit', [
              'webhooks',
              'add',
              '--tenant',
              'acme',
              '--url',
              receiver.url,
              '--events',
              'user.created',
              '--development',
              '--json',
              '--database-url',
              env.databaseUrl,
            ]),
          ) as { secret: string };
          const alice = await signIn(env, 'saml', 'u1001');
          await vi.waitFor(() => expect(receiver.received, env.app.output).toHaveLength(1), {
            timeout: 15_000,
            interval: 100,
          });
          const [hook] = receiver.received;
          const headers = {
            'webhook-id': String(hook!.headers['webhook-id']),
            'webhook-timestamp': String(hook!.headers['webhook-timestamp']),
            'webhook-signature': String(hook!.headers['webhook-signature']),
          };
          expect(new Webhook(secret).verify(hook!.body, headers)).toMatchObject({
            type: 'user.created',
            tenantId: 'acme',
            data: { version: 1, actor: 'jit', userId: alice.user.id },
          });
          // Signed: another body, or another secret, does not verify.
          expect(() => new Webhook(secret).verify(hook!.body.replace('acme', 'acmf'), headers)).toThrow();
          const other = `whsec_${randomBytes(32).toString('base64')}`;
          expect(() => new Webhook(other).verify(hook!.body, headers)).toThrow();
        } finally {
          await env.close();
          await receiver.close();
        }
      }, 60_000);
    }

    if (options.jest) {
      it("passes its own Jest tests (ts-jest), which boot the app's module", async () => {
        await writeConnections(consumer, 'http://localhost:3000', 'http://localhost:3001');
        if (options.admin) await consumer.writeFile('idp-metadata.xml', await devIdpMetadata());
        await consumer.bin('jest', ['--ci'], {
          ...(options.admin ? { TRUST_ADMIN_HEADERS: '1' } : {}),
          DATABASE_URL: `sqlite:${join(consumer.dir, 'jest.sqlite')}`,
          APP_URL: 'http://localhost:3000',
          SESSION_SECRET: randomBytes(24).toString('base64url'),
        });
      }, 120_000);
    }
  });
}
