import { describe, expect, it } from 'vitest';
import type { JitError } from '@jit-sso/core';
import { createProvisioner, MemoryStore, type UserRecord } from '@jit-sso/core';
import { MemoryReplayCache } from '@jit-sso/protocol';
import { oidcVerify, samlVerify, type KoaPassportRequest } from '../src/index.js';

const ISSUER = 'https://idp.acme.test';

function setup(allowedTenantIds?: string[]) {
  const store = new MemoryStore();
  const provisioner = createProvisioner({
    store,
    connections: [
      {
        id: 'acme-oidc',
        tenantId: 'acme',
        protocol: 'oidc',
        issuer: ISSUER,
        jit: { verifiedDomains: ['acme.test'], defaultRoles: ['member'] },
        ...(allowedTenantIds ? { allowedTenantIds } : {}),
      },
    ],
  });
  return { store, provisioner };
}

/** What koa-passport hands to a verify callback: Koa's request with `ctx`. */
const koaRequest = (params: Record<string, string>, tenant?: string) =>
  ({ ctx: { params, request: { body: {} }, state: {}, tenant } }) as unknown as KoaPassportRequest;

type Outcome = { error: unknown; user?: unknown; info?: unknown };
const call = (run: (done: (error: unknown, user?: unknown, info?: unknown) => void) => void) =>
  new Promise<Outcome>((resolve) => run((error, user, info) => resolve({ error, user, info })));

const claims = (extra: Record<string, unknown> = {}) => ({
  claims: () => ({ iss: ISSUER, sub: 'ann-sub', email: 'ann@acme.test', email_verified: true, ...extra }),
});

describe('koa-passport verify helpers', () => {
  it('provisions an OIDC login and hands passport the user and the decision', async () => {
    const { provisioner } = setup();
    const verify = oidcVerify({ provisioner, connectionId: 'acme-oidc' });
    const outcome = await call((done) => verify(koaRequest({}), claims(), done));
    expect(outcome.error).toBeNull();
    expect((outcome.user as UserRecord).email).toBe('ann@acme.test');
    expect(outcome.info).toMatchObject({ result: { action: 'created', roles: ['member'] } });
  });

  it('refuses an OIDC login into another tenant than the one the app resolves from the request', async () => {
    const { provisioner, store } = setup();
    const verify = oidcVerify({
      provisioner,
      connectionId: 'acme-oidc',
      tenantId: (ctx) => (ctx as unknown as { tenant: string }).tenant,
    });
    const outcome = await call((done) => verify(koaRequest({}, 'globex'), claims(), done));
    expect((outcome.error as JitError).code).toBe('TENANT_MISMATCH');
    expect(await store.findUserByEmail('acme', 'ann@acme.test')).toBeNull();
  });

  it('refuses a token of a directory that is not on the allow-list, and audits it', async () => {
    const { provisioner, store } = setup(['dir-acme']);
    const verify = oidcVerify({ provisioner, connectionId: 'acme-oidc' });
    const outcome = await call((done) => verify(koaRequest({}), claims({ tid: 'dir-evil' }), done));
    expect((outcome.error as JitError).code).toBe('OIDC_TENANT_NOT_ALLOWED');
    const audit = await store.listAuditEvents({ limit: 10 });
    expect(audit.map((e) => [e.action, e.reason, e.subject])).toEqual([
      ['denied', 'OIDC_TENANT_NOT_ALLOWED', 'ann-sub'],
    ]);
  });

  it('reads the SAML connection from the router parameter and refuses a message without a login', async () => {
    const { provisioner, store } = setup();
    const verify = samlVerify({ provisioner, replayCache: new MemoryReplayCache() });
    const outcome = await call((done) => verify(koaRequest({ connection: 'acme-oidc' }), null, done));
    expect((outcome.error as JitError).code).toBe('SAML_RESPONSE_INVALID');
    const audit = await store.listAuditEvents({ limit: 10 });
    expect(audit.map((e) => [e.connectionId, e.reason])).toEqual([['acme-oidc', 'SAML_RESPONSE_INVALID']]);
  });

  it('answers a route without the connection parameter with UNKNOWN_CONNECTION', async () => {
    const { provisioner } = setup();
    const verify = samlVerify({ provisioner, replayCache: new MemoryReplayCache(), connectionParam: 'idp' });
    await expect(
      call((done) => verify(koaRequest({ connection: 'acme-oidc' }), null, done)),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_CONNECTION',
    });
  });
});
