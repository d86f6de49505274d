import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import dns2 from 'dns2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvisioner } from '@jit-sso/core';
import { startDevIdp, type DevIdp } from '@jit-sso/dev-idp';
import { Browser, hiddenFields, type Page } from '@jit-sso/dev-idp/testing';
import {
  createAdminService,
  MemoryReplayCache,
  MemorySignInTracer,
  TEST_SIGN_IN_RELAY_STATE,
} from '@jit-sso/protocol';
import { createScimService } from '@jit-sso/scim';
import {
  createJitDataSource,
  migrate,
  TypeormConfigurationStore,
  TypeormDirectoryStore,
} from '@jit-sso/typeorm';
import type { DataSource } from 'typeorm';
import type { AdapterApp, BuildAdapterApp } from './harness.js';
import { freePort } from './ports.js';

/** A DNS server on 127.0.0.1 answering the TXT records a test publishes, and a resolver pointed at it. */
async function localDns() {
  const records = new Map<string, string[]>();
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      for (const data of (question && records.get(question.name.toLowerCase())) ?? []) {
        response.answers.push({
          name: question!.name,
          type: Packet.TYPE.TXT,
          class: Packet.CLASS.IN,
          ttl: 1,
          data,
        } as unknown as (typeof response.answers)[number]);
      }
      send(response);
    },
  });
  const bound = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`127.0.0.1:${(bound as { udp: AddressInfo }).udp.port}`]);
  return { records, resolver, close: () => server.close() };
}

/**
 * Signs in as `person` on the IdP's picker and follows the IdP's own redirects, stopping at the
 * redirect back to the app: the callback URL, not yet visited.
 */
async function idpRedirect(browser: Browser, picker: Page, person: string): Promise<URL> {
  const idpOrigin = new URL(picker.url).origin;
  const form = [...picker.body.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].find((m) =>
    m[2]!.includes(`value="${person}"`),
  );
  if (!form) throw new Error(`no sign-in button for ${person}`);
  let response = await browser.fetch(new URL(form[1]!.replace(/&amp;/g, '&'), picker.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...hiddenFields(form[2]!), person }).toString(),
  });
  let current = picker.url;
  for (let hops = 0; hops < 20; hops++) {
    const location = response.headers.get('location');
    if (!location) throw new Error(`the IdP answered ${response.status} without a redirect`);
    const next = new URL(location, current);
    if (next.origin !== idpOrigin) return next;
    current = next.href;
    response = await browser.fetch(current);
  }
  throw new Error('too many redirects');
}

const CONNECTION = 'newco-saml';
const OIDC_CONNECTION = 'newco-oidc';
const OIDC_CLIENT = { clientId: 'newco-app', clientSecret: randomBytes(16).toString('hex') };

/**
 * A new tenant onboarded entirely through the admin API of an app on stored configuration (TypeORM
 * on SQLite): a SAML connection from the dev IdP's metadata URL, a domain verified against a local
 * DNS server, a group→role rule; then its first user signs in with the right roles.
 */
export function defineOnboardingSuite(name: string, build: BuildAdapterApp): void {
  describe(`${name}: self-serve onboarding through the admin API`, () => {
    let idp: DevIdp;
    let dns: Awaited<ReturnType<typeof localDns>>;
    let dataSource: DataSource;
    let provisioner: ReturnType<typeof createProvisioner>;
    let store: TypeormDirectoryStore;
    let app: AdapterApp;
    let baseUrl: string;
    const admin = (tenant: string) => ({ 'x-admin': `${tenant}/it-admin@${tenant}.test` });
    const call = async (method: string, path: string, tenant: string, body?: unknown) => {
      const response = await fetch(`${baseUrl}/admin/api${path}`, {
        method,
        headers: { ...admin(tenant), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text,
      };
    };

    /** The refused admin calls audited in a tenant's trail: [reason, subject], oldest first. */
    const adminDenials = async (tenant: string) =>
      (await store.listAuditEvents({ tenantId: tenant, limit: 1000 }))
        .filter((e) => e.actor === 'admin' && e.action === 'denied')
        .map((e) => [e.reason, e.subject]);

    beforeAll(async () => {
      const port = await freePort();
      baseUrl = `http://127.0.0.1:${port}`;
      idp = await startDevIdp({
        samlServiceProviders: [
          {
            entityId: `${baseUrl}/auth/saml/${CONNECTION}/metadata`,
            acsUrls: [`${baseUrl}/auth/saml/${CONNECTION}/acs`],
          },
        ],
        oidcClients: [{ ...OIDC_CLIENT, redirectUris: [`${baseUrl}/auth/oidc/${OIDC_CONNECTION}/callback`] }],
      });
      dns = await localDns();
      dataSource = await createJitDataSource('sqlite::memory:');
      await migrate(dataSource);
      store = new TypeormDirectoryStore(dataSource);
      const configuration = new TypeormConfigurationStore(dataSource);
      const tracer = new MemorySignInTracer();
      provisioner = createProvisioner({ store, configuration, onSignInAttempt: tracer.record });
      const service = createAdminService({
        configuration,
        publicUrl: baseUrl,
        tracer,
        directory: store,
        dns: dns.resolver,
        documents: { allowPrivateNetworks: true },
        onChange: () => provisioner.refreshConfiguration?.(),
        // Production rules; hosts resolve here without the network: `internal.*` to a private address.
        webhooks: {
          store,
          resolve: async (host) => [
            { address: host.startsWith('internal.') ? '10.1.2.3' : '93.184.216.34', family: 4 },
          ],
        },
      });
      app = await build({
        port,
        baseUrl,
        provisioner,
        connections: [],
        replayCache: new MemoryReplayCache(),
        sessionSecret: randomBytes(32).toString('hex'),
        scim: createScimService({ store, provisioner, baseUrl: `${baseUrl}/scim/v2` }),
        samlValidationPool: undefined,
        loginAdmission: undefined,
        admin: service,
      });
    });
    afterAll(async () => {
      await app?.close();
      provisioner?.close?.();
      await dns?.close();
      await idp?.close();
      await dataSource?.destroy();
    });

    it('onboards a tenant, and its first user signs in with the roles its rule grants', async () => {
      const created = await call('POST', '/connections/saml', 'newco', {
        id: CONNECTION,
        displayName: 'NewCo',
        metadataUrl: idp.saml.metadataUrl,
        jit: { defaultRoles: ['viewer'] },
      });
      expect(created.status).toBe(201);
      expect(created.body.connection.serviceProvider.acsUrl).toBe(`${baseUrl}/auth/saml/${CONNECTION}/acs`);
      expect(created.body.report.certificates[0].status).toBe('valid');

      // Before the domain is verified, nobody is created.
      const early = new Browser();
      const refused = await early.pick(await early.go(`${baseUrl}/auth/saml/${CONNECTION}/login`), 'u1001');
      expect(refused.body).toContain('DOMAIN_NOT_ALLOWED');

      const claim = await call('POST', '/domains', 'newco', { domain: 'acme.test' });
      expect(claim.status).toBe(201);
      const notYet = await call('POST', '/domains/acme.test/verify', 'newco');
      expect([notYet.status, notYet.body.error.code]).toEqual([422, 'DOMAIN_NOT_VERIFIED']);
      dns.records.set(claim.body.dns.name, [claim.body.dns.value]);
      const verified = await call('POST', '/domains/acme.test/verify', 'newco');
      expect([verified.status, verified.body.status]).toEqual([200, 'verified']);

      const preview = await call('POST', `/connections/${CONNECTION}/preview`, 'newco', {
        jit: { roleRules: [{ group: 'acme-admins', roles: ['admin'] }] },
      });
      expect(preview.body).toMatchObject({ roles: ['admin'], groups: ['acme-admins', 'acme-staff'] });
      const ruled = await call('PATCH', `/connections/${CONNECTION}`, 'newco', {
        expectedVersion: created.body.connection.version,
        jit: { roleRules: [{ group: 'acme-admins', roles: ['admin'] }] },
      });
      expect(ruled.status).toBe(200);

      const browser = new Browser();
      // The app answers the login with a redirect to its home page, which the suite's apps do not serve.
      const landed = await browser.pick(
        await browser.go(`${baseUrl}/auth/saml/${CONNECTION}/login`),
        'u1001',
      );
      expect(landed.url).toBe(`${baseUrl}/`);
      const me = await (
        await browser.fetch(`${baseUrl}/me`, { headers: { accept: 'application/json' } })
      ).json();
      expect(me.user).toMatchObject({ tenantId: 'newco', email: 'alice@acme.test' });
      expect(me.roles).toEqual(['admin']);

      const attempts = await call('GET', `/connections/${CONNECTION}/attempts`, 'newco');
      expect(attempts.body.map((a: { outcome: string }) => a.outcome)).toEqual([
        'created',
        'DOMAIN_NOT_ALLOWED',
      ]);
      const changes = await call('GET', '/changes', 'newco');
      expect(changes.body.map((c: { action: string; actor: string }) => [c.action, c.actor])).toEqual([
        ['connection.updated', 'it-admin@newco.test'],
        ['domain.verified', 'it-admin@newco.test'],
        ['domain.claimed', 'it-admin@newco.test'],
        ['connection.created', 'it-admin@newco.test'],
      ]);
      const metadata = await fetch(`${baseUrl}/admin/api/connections/${CONNECTION}/sp-metadata`, {
        headers: admin('newco'),
      });
      expect(metadata.headers.get('content-type')).toMatch(/samlmetadata\+xml/);
      expect(await metadata.text()).toContain(`${baseUrl}/auth/saml/${CONNECTION}/acs`);
    });

    it('runs a test sign-in: the decision is shown, nothing is written, nobody is signed in', async () => {
      const browser = new Browser();
      const picker = await browser.go(
        `${baseUrl}/auth/saml/${CONNECTION}/login?RelayState=${encodeURIComponent(TEST_SIGN_IN_RELAY_STATE)}`,
      );
      const decided = await browser.pick(picker, 'u1002');
      expect(JSON.parse(decided.body)).toEqual({ test: true, action: 'created', roles: ['viewer'] });
      const me = await browser.fetch(`${baseUrl}/me`, { headers: { accept: 'application/json' } });
      expect(me.status).toBe(401);
      expect(await provisioner.store.findUserByEmail('newco', 'bob@acme.test')).toBeNull();
      const [latest] = (await call('GET', `/connections/${CONNECTION}/attempts`, 'newco')).body;
      expect(latest).toMatchObject({ outcome: 'created', ok: true, test: true, roles: ['viewer'] });
    });

    it('runs an OIDC test sign-in: the mark lives in the login state, nothing is written', async () => {
      const created = await call('POST', '/connections/oidc', 'newco', {
        id: OIDC_CONNECTION,
        issuer: idp.oidc.issuer,
        ...OIDC_CLIENT,
        jit: { defaultRoles: ['viewer'] },
      });
      expect(created.status).toBe(201);
      const testLogin = `${baseUrl}/auth/oidc/${OIDC_CONNECTION}/login?RelayState=${encodeURIComponent(TEST_SIGN_IN_RELAY_STATE)}`;

      const browser = new Browser();
      const decided = await browser.pick(await browser.go(testLogin), 'u1003');
      expect(JSON.parse(decided.body)).toEqual({ test: true, action: 'created', roles: ['viewer'] });
      const me = await browser.fetch(`${baseUrl}/me`, { headers: { accept: 'application/json' } });
      expect(me.status).toBe(401);
      const person = idp.people.get('u1003')!;
      expect(await provisioner.store.findUserByEmail('newco', person.email)).toBeNull();
      const [latest] = (await call('GET', `/connections/${OIDC_CONNECTION}/attempts`, 'newco')).body;
      expect(latest).toMatchObject({ outcome: 'created', ok: true, test: true });
    });

    it('never turns a normal OIDC login into a test sign-in, nor a test sign-in into a login', async () => {
      const person = idp.people.get('u1003')!;
      // A normal login whose callback carries the test RelayState: a real sign-in.
      const normal = new Browser();
      const picker = await normal.go(`${baseUrl}/auth/oidc/${OIDC_CONNECTION}/login`);
      const callback = await idpRedirect(normal, picker, 'u1003');
      callback.searchParams.set('RelayState', TEST_SIGN_IN_RELAY_STATE);
      const landed = await normal.go(callback.href);
      expect(landed.url).toBe(`${baseUrl}/`);
      const me = await normal.fetch(`${baseUrl}/me`, { headers: { accept: 'application/json' } });
      expect(me.status).toBe(200);
      expect((await me.json()).user.email).toBe(person.email);

      // A test sign-in's callback handed to another browser's session (which started a normal login)
      // is refused there, and signs nobody in.
      const tester = new Browser();
      const testCallback = await idpRedirect(
        tester,
        await tester.go(
          `${baseUrl}/auth/oidc/${OIDC_CONNECTION}/login?RelayState=${encodeURIComponent(TEST_SIGN_IN_RELAY_STATE)}`,
        ),
        'u1003',
      );
      const victim = new Browser();
      await victim.go(`${baseUrl}/auth/oidc/${OIDC_CONNECTION}/login`);
      const swapped = await victim.go(testCallback.href);
      expect(swapped.body).toContain('OIDC_CALLBACK_INVALID');
      const victimMe = await victim.fetch(`${baseUrl}/me`, { headers: { accept: 'application/json' } });
      expect(victimMe.status).toBe(401);
      // The test sign-in, completed by its own browser without its RelayState, stays a test.
      const stillTest = await tester.go(testCallback.href.replace(/[?&]RelayState=[^&]*/, ''));
      expect(JSON.parse(stillTest.body)).toMatchObject({ test: true });
      const testerMe = await tester.fetch(`${baseUrl}/me`, { headers: { accept: 'application/json' } });
      expect(testerMe.status).toBe(401);
    });

    it('keeps every route of the tenant away from another tenant’s administrator', async () => {
      const version = (await call('GET', `/connections/${CONNECTION}`, 'newco')).body.version;
      const foreign: Array<[string, string, unknown?]> = [
        ['GET', `/connections/${CONNECTION}`],
        ['PATCH', `/connections/${CONNECTION}`, { expectedVersion: version, jit: { mode: 'off' } }],
        ['DELETE', `/connections/${CONNECTION}`],
        [
          'POST',
          `/connections/${CONNECTION}/certificates`,
          { expectedVersion: version, certificate: idp.saml.certificate },
        ],
        ['GET', `/connections/${CONNECTION}/sp-metadata`],
        ['POST', `/connections/${CONNECTION}/preview`, {}],
        ['GET', `/connections/${CONNECTION}/attempts`],
        ['POST', '/domains/acme.test/verify'],
        ['DELETE', '/domains/acme.test'],
      ];
      const audited = (await adminDenials('rival')).length;
      for (const [i, [method, path, body]] of foreign.entries()) {
        const answer = await call(method, path, 'rival', body);
        expect([method, path, answer.status, answer.body.error?.code]).toEqual([
          method,
          path,
          404,
          'NOT_FOUND',
        ]);
        // The answer stays NOT_FOUND; the rival tenant's own audit trail records the real reason, once.
        const denials = await adminDenials('rival');
        expect([path, denials.length, denials.at(-1)]).toEqual([
          path,
          audited + i + 1,
          ['ADMIN_CROSS_TENANT', 'it-admin@rival.test'],
        ]);
      }
      expect(await adminDenials('newco')).toEqual([]);
      const taken = await call('POST', '/domains', 'rival', { domain: 'acme.test' });
      expect([taken.status, taken.body.error.code]).toEqual([409, 'DOMAIN_TAKEN']);
      expect((await call('GET', '/connections', 'rival')).body).toEqual([]);
      expect((await call('GET', '/domains', 'rival')).body).toEqual([]);
      expect((await call('GET', `/connections/${CONNECTION}`, 'newco')).body.version).toBe(version);
      const anonymous = await fetch(`${baseUrl}/admin/api/connections`);
      expect(anonymous.status).toBe(401);
      const form = await fetch(`${baseUrl}/admin/api/domains`, {
        method: 'POST',
        headers: { ...admin('newco'), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'domain=evil.test',
      });
      expect(form.status).toBe(400);
      // A domain held by another tenant and bad input are not security refusals: nothing more audited.
      expect(await adminDenials('rival')).toHaveLength(audited + foreign.length);
      expect(await adminDenials('newco')).toEqual([]);
    });

    it('manages the tenant’s webhook endpoints, out of reach of another tenant’s administrator', async () => {
      const refusals: Array<[unknown, string]> = [
        [{ url: 'https://internal.newco.test/hooks' }, 'WEBHOOK_URL_REFUSED'],
        [{ url: 'https://127.0.0.1/hooks' }, 'WEBHOOK_URL_REFUSED'],
        [{ url: 'http://hooks.newco.test/hooks' }, 'WEBHOOK_URL_INVALID'],
        [{ url: 'https://hooks.newco.test/jit', eventTypes: ['user.nope'] }, 'WEBHOOK_EVENT_TYPE_UNKNOWN'],
      ];
      for (const [body, code] of refusals) {
        const refused = await call('POST', '/webhooks', 'newco', body);
        expect([refused.status, refused.body.error.code]).toEqual([400, code]);
        expect(refused.body.error.hint).toEqual(expect.any(String));
      }
      // The URLs refused as SSRF are audited; the invalid ones are bad input, not audited.
      expect(await adminDenials('newco')).toEqual([
        ['WEBHOOK_URL_REFUSED', 'it-admin@newco.test'],
        ['WEBHOOK_URL_REFUSED', 'it-admin@newco.test'],
      ]);
      expect((await call('GET', '/webhooks', 'newco')).body).toEqual([]);

      const created = await call('POST', '/webhooks', 'newco', {
        url: 'https://hooks.newco.test/jit',
        eventTypes: ['user.created', 'config.changed'],
      });
      expect(created.status).toBe(201);
      const { endpoint, secret } = created.body as { endpoint: { id: string }; secret: string };
      expect(secret).toMatch(/^whsec_/);
      const listed = await call('GET', '/webhooks', 'newco');
      expect(listed.body).toMatchObject([
        { id: endpoint.id, tenantId: 'newco', paused: false, rotating: false },
      ]);
      expect(JSON.stringify(listed.body)).not.toContain('whsec_');

      // The changes made through the admin API are in the outbox, each a config.changed event.
      await store.dispatchEvents(500, new Date());
      const events = await store.listEvents({ tenantId: 'newco', limit: 500 });
      const changed = events
        .filter((e) => e.type === 'config.changed')
        .map((e) => [(e.payload as { object: string }).object, (e.payload as { action?: string }).action]);
      expect(changed).toEqual(
        expect.arrayContaining([
          ['connection', 'connection.created'],
          ['domain', 'domain.claimed'],
          ['domain', 'domain.verified'],
          ['connection', 'connection.updated'],
          ['webhook-endpoint', undefined],
        ]),
      );
      expect(events.map((e) => e.type)).toContain('user.created');

      // A delivery to the endpoint fails for good, as a worker records it.
      const [claimed] = await store.claimDeliveries({
        now: new Date(),
        leaseMs: 60_000,
        limit: 1,
        http: true,
        subscribers: [],
      });
      expect(claimed!.endpoint.id).toBe(endpoint.id);
      await store.finishDelivery(claimed!.delivery.id, claimed!.delivery.attempts, {
        kind: 'failed',
        at: new Date(),
        error: 'HTTP 500',
        status: 500,
        retryAt: null,
      });
      const eventId = claimed!.event.id;
      const failures = await call('GET', `/webhooks/failures?endpointId=${endpoint.id}`, 'newco');
      expect(failures.body).toMatchObject([
        { eventId, endpointId: endpoint.id, status: 'dead', lastStatus: 500 },
      ]);

      // Another tenant's administrator: not found, like any other of the tenant's objects; nothing changes.
      const foreign: Array<[string, string, unknown?]> = [
        ['POST', `/webhooks/${endpoint.id}/rotate`, {}],
        ['POST', `/webhooks/${endpoint.id}/pause`],
        ['POST', `/webhooks/${endpoint.id}/resume`],
        ['GET', `/webhooks/failures?endpointId=${endpoint.id}`],
        ['POST', `/webhooks/${endpoint.id}/deliveries/${eventId}/redeliver`],
      ];
      const before = await store.findEndpoint(endpoint.id);
      const audited = (await adminDenials('rival')).length;
      for (const [method, path, body] of foreign) {
        const answer = await call(method, path, 'rival', body);
        expect([method, path, answer.status, answer.body.error?.code]).toEqual([
          method,
          path,
          404,
          'NOT_FOUND',
        ]);
      }
      expect((await adminDenials('rival')).slice(audited)).toEqual(
        foreign.map(() => ['ADMIN_CROSS_TENANT', 'it-admin@rival.test']),
      );
      expect((await call('GET', '/webhooks', 'rival')).body).toEqual([]);
      expect((await call('GET', '/webhooks/failures', 'rival')).body).toEqual([]);
      expect(await store.findEndpoint(endpoint.id)).toEqual(before);
      expect((await store.listDeliveries({ eventId, endpointId: endpoint.id, limit: 1 }))[0]!.status).toBe(
        'dead',
      );

      const redelivered = await call(
        'POST',
        `/webhooks/${endpoint.id}/deliveries/${eventId}/redeliver`,
        'newco',
      );
      expect(redelivered.body).toMatchObject({ eventId, status: 'pending', attempts: 0 });

      const rotated = await call('POST', `/webhooks/${endpoint.id}/rotate`, 'newco', { overlapHours: 1 });
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(secret);
      expect(rotated.body.endpoint.rotating).toBe(true);
      const record = await store.findEndpoint(endpoint.id);
      expect([record!.secret, record!.previousSecret]).toEqual([rotated.body.secret, secret]);

      expect((await call('POST', `/webhooks/${endpoint.id}/pause`, 'newco')).body.paused).toBe(true);
      expect((await store.findEndpoint(endpoint.id))!.paused).toBe(true);
      expect((await call('POST', `/webhooks/${endpoint.id}/resume`, 'newco')).body.paused).toBe(false);
    });

    it('issues, lists and revokes SCIM tokens for the tenant only, each change recorded with its actor', async () => {
      const issued = await call('POST', '/scim/tokens', 'newco', { label: 'Okta provisioning' });
      expect(issued.status).toBe(201);
      const { token, record } = issued.body;
      // 256 random bits, shown once.
      expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
      expect(record).toEqual({
        id: expect.any(String),
        directoryId: expect.any(String),
        label: 'Okta provisioning',
        createdAt: expect.any(String),
        revokedAt: null,
      });
      const scim = (bearer: string) =>
        fetch(`${baseUrl}/scim/v2/Users`, { headers: { authorization: `Bearer ${bearer}` } });
      expect((await scim(token)).status).toBe(200);

      const listed = await call('GET', '/scim/tokens', 'newco');
      expect(listed.body).toEqual([record]);
      expect(JSON.stringify(listed.body)).not.toContain(token);
      expect((await call('GET', '/scim/tokens', 'rival')).body).toEqual([]);

      // Another tenant's administrator cannot revoke it: it does not exist for them.
      const foreign = await call('DELETE', `/scim/tokens/${record.id}`, 'rival');
      expect([foreign.status, foreign.body.error.code]).toEqual([404, 'NOT_FOUND']);
      expect((await scim(token)).status).toBe(200);
      expect((await call('GET', '/changes', 'rival')).body).toEqual([]);

      const revoked = await call('DELETE', `/scim/tokens/${record.id}`, 'newco');
      expect(revoked.status).toBe(200);
      expect(revoked.body.revokedAt).toEqual(expect.any(String));
      expect((await scim(token)).status).toBe(401);

      const changes = (await call('GET', '/changes', 'newco')).body as {
        action: string;
        actor: string;
        target: string;
      }[];
      expect(changes.slice(0, 2).map((c) => [c.action, c.actor, c.target])).toEqual([
        ['scim-token.revoked', 'it-admin@newco.test', record.id],
        ['scim-token.issued', 'it-admin@newco.test', record.id],
      ]);
      const audit = await provisioner.store.listAuditEvents({ tenantId: 'newco', limit: 100 });
      expect(
        audit.filter((e) => e.reason === 'scim-token').map((e) => [e.actor, e.action, e.changes[0]]),
      ).toEqual([
        ['admin', 'created', { field: 'token', from: null, to: record.id }],
        ['admin', 'deleted', { field: 'token', from: record.id, to: null }],
      ]);
      const bad = await call('POST', '/scim/tokens', 'newco', { directoryId: 'not-ours' });
      expect([bad.status, bad.body.error.code]).toEqual([404, 'NOT_FOUND']);
    });
  });
}
