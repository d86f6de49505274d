import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createProvisioner,
  fromSamlProfile,
  hashToken,
  MemoryConfigurationStore,
  MemoryDirectoryStore,
  MemoryStore,
  StoreError,
  type Connection,
} from '@jit-sso/core';
import {
  AdminError,
  createAdminService,
  MemoryReplayCache,
  MemorySignInTracer,
  readCertificate,
  samlOptionsFor,
  type AdminService,
} from '../src/index.js';
import { A, B, fixture, foreignCalls, idpMetadata, localDns, serve, signMetadata } from './admin-support.js';

const APP = 'https://app.example.com';

let dns: Awaited<ReturnType<typeof localDns>>;
let idp: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  dns = await localDns();
  idp = await serve({
    '/saml/metadata': { body: idpMetadata('https://idp.acme.test/saml') },
    '/saml/signed': { body: signMetadata(idpMetadata('https://idp.acme.test/saml')) },
    '/saml/broken': { body: '<md:EntityDescriptor' },
    '/saml/gone': { status: 500, body: 'oops' },
    '/oidc/.well-known/openid-configuration': {
      type: 'application/json',
      body: (base) =>
        JSON.stringify({
          issuer: `${base}/oidc`,
          authorization_endpoint: `${base}/oidc/auth`,
          token_endpoint: `${base}/oidc/token`,
          jwks_uri: `${base}/oidc/jwks`,
        }),
    },
  });
});
afterAll(async () => {
  await dns?.close();
  await idp?.close();
});

let store: MemoryConfigurationStore;
let tracer: MemorySignInTracer;
let admin: AdminService;
let clock: Date;
beforeEach(() => {
  store = new MemoryConfigurationStore();
  tracer = new MemorySignInTracer();
  clock = new Date('2027-01-01T00:00:00Z');
  admin = createAdminService({
    configuration: store,
    publicUrl: APP,
    tracer,
    dns: dns.resolver,
    documents: { allowPrivateNetworks: true },
    now: () => clock,
  });
  dns.records.clear();
});

async function refusal(promise: Promise<unknown>): Promise<AdminError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdminError);
  return error as AdminError;
}

const samlFromXml = (caller = A, id = 'acme-saml', extra: Record<string, unknown> = {}) =>
  admin.createSamlConnection(caller, {
    id,
    metadataXml: idpMetadata('https://idp.acme.test/saml'),
    jit: { roleRules: [{ group: 'acme-admins', roles: ['admin'] }], defaultRoles: ['viewer'] },
    ...extra,
  });

describe('SAML connections from metadata', () => {
  it('creates one from uploaded XML, with the values to paste into the IdP and the change recorded', async () => {
    const { connection, report } = await samlFromXml();
    expect(connection).toMatchObject({
      id: 'acme-saml',
      tenantId: 'acme',
      protocol: 'saml',
      issuer: 'https://idp.acme.test/saml',
      version: 1,
      preset: 'saml',
      verifiedDomains: [],
      serviceProvider: {
        acsUrl: `${APP}/auth/saml/acme-saml/acs`,
        entityId: `${APP}/auth/saml/acme-saml/metadata`,
        loginUrl: `${APP}/auth/saml/acme-saml/login`,
      },
      saml: { ssoUrl: 'https://idp.acme.test/sso', previousCertUntil: null },
    });
    expect(connection.jit.roleRules).toEqual([{ group: 'acme-admins', roles: ['admin'] }]);
    expect(report.signature).toBe('unsigned');
    expect(report.certificates).toHaveLength(1);
    expect(report.certificates[0]!.status).toBe('valid');
    const [event] = await admin.listChanges(A);
    expect(event).toMatchObject({
      actor: 'ann@acme.test',
      action: 'connection.created',
      target: 'acme-saml',
    });
    expect(event!.changes.some((c) => c.field === 'issuer')).toBe(true);
  });

  it('creates one from a metadata URL and serves the SP metadata', async () => {
    const { connection } = await admin.createSamlConnection(A, {
      id: 'acme-saml',
      metadataUrl: `${idp.base}/saml/metadata`,
    });
    expect(connection.saml?.metadataUrl).toBe(`${idp.base}/saml/metadata`);
    const xml = await admin.serviceProviderMetadata(A, 'acme-saml');
    expect(xml).toContain(`entityID="${APP}/auth/saml/acme-saml/metadata"`);
    expect(xml).toContain(`Location="${APP}/auth/saml/acme-saml/acs"`);
  });

  it('verifies signed metadata with the certificate given, and refuses it with another', async () => {
    const { report } = await admin.createSamlConnection(A, {
      id: 'acme-saml',
      metadataUrl: `${idp.base}/saml/signed`,
      metadataCert: fixture('metadata-signing-cert.pem'),
    });
    expect(report.signature).toBe('verified');
    const error = await refusal(
      admin.createSamlConnection(A, {
        id: 'acme-saml-2',
        metadataUrl: `${idp.base}/saml/signed`,
        metadataCert: fixture('current.pem'),
      }),
    );
    expect(error.code).toBe('METADATA_SIGNATURE_INVALID');
    expect(error.httpStatus).toBe(422);
    const unchecked = await admin.createSamlConnection(A, {
      id: 'acme-saml-3',
      metadataUrl: `${idp.base}/saml/signed`,
    });
    expect(unchecked.report.signature).toBe('not-checked');
    expect(unchecked.report.warnings.join()).toMatch(/no certificate was given/);
  });

  it.each([
    ['unreachable', { metadataUrl: 'http://127.0.0.1:1/metadata' }, 'METADATA_UNREACHABLE', 502],
    ['answering 500', { path: '/saml/gone' }, 'METADATA_UNREACHABLE', 502],
    ['malformed', { path: '/saml/broken' }, 'METADATA_INVALID', 422],
    ['with a DOCTYPE', { metadataXml: '<!DOCTYPE x><x/>' }, 'METADATA_INVALID', 422],
    ['without an IdP', { metadataXml: '<x xmlns="urn:other"/>' }, 'METADATA_INVALID', 422],
    [
      'with expired certificates only',
      { metadataXml: idpMetadata('https://e.test', ['expired.pem']) },
      'CERTIFICATE_EXPIRED',
      422,
    ],
    ['with both a URL and XML', { metadataUrl: 'https://x.test', metadataXml: '<x/>' }, 'INVALID_INPUT', 400],
    ['with a bad id', { id: 'no spaces', metadataXml: idpMetadata('https://e.test') }, 'INVALID_INPUT', 400],
  ])('refuses metadata %s with a typed error, writing nothing', async (_what, input, code, status) => {
    const { path, ...rest } = input as { path?: string } & Record<string, unknown>;
    const error = await refusal(
      admin.createSamlConnection(A, {
        id: 'acme-saml',
        ...(path ? { metadataUrl: `${idp.base}${path}` } : {}),
        ...rest,
      }),
    );
    expect([error.code, error.httpStatus]).toEqual([code, status]);
    expect(await store.configurationVersion()).toBe(0);
    expect(await store.getConnection('acme-saml')).toBeNull();
  });

  it('refuses a metadata URL on a private network unless allowed', async () => {
    const strict = createAdminService({ configuration: store, publicUrl: APP });
    const error = await refusal(
      strict.createSamlConnection(A, { id: 'x', metadataUrl: `${idp.base}/saml/metadata` }),
    );
    expect(error.code).toBe('INVALID_INPUT');
    const local = await refusal(
      strict.createSamlConnection(A, { id: 'x', metadataUrl: 'https://127.0.0.1/metadata' }),
    );
    expect(local.message).toMatch(/private network/);
  });

  it('reports a certificate that expires soon, and leaves out an expired one', async () => {
    const soon = new Date(readCertificate(fixture('current.pem')).validTo.getTime() - 10 * 86_400_000);
    clock = soon;
    const { report } = await admin.createSamlConnection(A, {
      id: 'acme-saml',
      metadataXml: idpMetadata('https://idp.acme.test/saml', ['expired.pem', 'current.pem']),
    });
    expect(report.certificates.map((c) => [c.status, c.daysLeft])).toEqual([['expiring', 10]]);
    expect(report.warnings).toHaveLength(2);
    expect(report.warnings.join('\n')).toMatch(/expired on 2021-01-01 and was left out/);
    expect(report.warnings.join('\n')).toMatch(/expires on 2036-\d\d-\d\d \(10 days\)/);
  });

  it('refuses a connection id that exists, even in another tenant', async () => {
    await samlFromXml(A);
    const error = await refusal(samlFromXml(B));
    expect(error.code).toBe('CONNECTION_EXISTS');
    expect(await store.listConnections('globex')).toEqual([]);
  });
});

describe('OIDC connections from discovery', () => {
  it('creates one from the issuer URL, with the redirect URI to register', async () => {
    const { connection } = await admin.createOidcConnection(A, {
      id: 'acme-oidc',
      issuer: `${idp.base}/oidc`,
      clientId: 'app',
      clientSecret: 's3cret',
    });
    expect(connection).toMatchObject({
      issuer: `${idp.base}/oidc`,
      serviceProvider: { redirectUri: `${APP}/auth/oidc/acme-oidc/callback` },
      oidc: { clientId: 'app', hasClientSecret: true },
    });
    expect(JSON.stringify(connection)).not.toContain('s3cret');
    const [event] = await admin.listChanges(A);
    expect(JSON.stringify(event)).not.toContain('s3cret');
  });

  it('refuses an issuer that does not answer, or whose document names another issuer', async () => {
    expect(
      (await refusal(admin.createOidcConnection(A, { id: 'o', issuer: 'http://127.0.0.1:1', clientId: 'c' })))
        .code,
    ).toBe('DISCOVERY_UNREACHABLE');
    expect(
      (
        await refusal(
          admin.createOidcConnection(A, { id: 'o', issuer: `${idp.base}/saml/metadata`, clientId: 'c' }),
        )
      ).code,
    ).toBe('DISCOVERY_UNREACHABLE');
  });
});

describe('editing a connection', () => {
  it('changes the role rules at the expected version, and refuses a stale version', async () => {
    await samlFromXml();
    const updated = await admin.updateConnection(A, 'acme-saml', {
      expectedVersion: 1,
      jit: { roleRules: [{ group: 'it', roles: ['owner'] }], strictRoles: true },
      displayName: 'Acme SSO',
    });
    expect(updated).toMatchObject({ version: 2, displayName: 'Acme SSO' });
    expect(updated.jit).toMatchObject({
      roleRules: [{ group: 'it', roles: ['owner'] }],
      strictRoles: true,
      defaultRoles: ['viewer'],
    });
    const stale = await refusal(
      admin.updateConnection(A, 'acme-saml', { expectedVersion: 1, jit: { strictRoles: false } }),
    );
    expect([stale.code, stale.httpStatus]).toEqual(['VERSION_CONFLICT', 409]);
    const bad = await refusal(
      admin.updateConnection(A, 'acme-saml', { expectedVersion: 2, jit: { verifiedDomains: ['evil.test'] } }),
    );
    expect(bad.code).toBe('INVALID_INPUT');
    expect((await admin.getConnection(A, 'acme-saml')).version).toBe(2);
  });

  it('rolls a certificate over: both accepted until the date shown, then only the new one', async () => {
    await samlFromXml();
    const until = '2027-01-08T00:00:00.000Z';
    const rolled = await admin.rolloverCertificate(A, 'acme-saml', {
      expectedVersion: 1,
      certificate: fixture('next.pem'),
      previousUntil: until,
    });
    expect(rolled.saml?.previousCertUntil).toBe(until);
    expect(rolled.saml?.certificates.map((c) => [c.role, c.acceptedUntil])).toEqual([
      ['current', null],
      ['previous', until],
    ]);
    const provisioner = createProvisioner({ store: new MemoryStore(), configuration: store });
    try {
      const connection: Connection = await provisioner.getConnection('acme-saml');
      const certs = (at: number) => {
        const real = Date.now;
        Date.now = () => at;
        try {
          return (samlOptionsFor(connection, new MemoryReplayCache()).idpCert as string[]).map(
            (pem) => readCertificate(pem).fingerprint256,
          );
        } finally {
          Date.now = real;
        }
      };
      const next = readCertificate(fixture('next.pem')).fingerprint256;
      const current = readCertificate(fixture('current.pem')).fingerprint256;
      expect(certs(Date.parse(until) - 1000)).toEqual([next, current]);
      expect(certs(Date.parse(until) + 1000)).toEqual([next]);
    } finally {
      provisioner.close!();
    }
    expect(
      (
        await refusal(
          admin.rolloverCertificate(A, 'acme-saml', { expectedVersion: 2, certificate: 'not a cert' }),
        )
      ).code,
    ).toBe('CERTIFICATE_INVALID');
    expect(
      (
        await refusal(
          admin.rolloverCertificate(A, 'acme-saml', {
            expectedVersion: 2,
            certificate: fixture('expired.pem'),
          }),
        )
      ).code,
    ).toBe('CERTIFICATE_EXPIRED');
  });

  it('deletes a connection; logins then find no such connection', async () => {
    await samlFromXml();
    expect(await admin.deleteConnection(A, 'acme-saml', { expectedVersion: 1 })).toEqual({
      deleted: 'acme-saml',
    });
    const provisioner = createProvisioner({ store: new MemoryStore(), configuration: store });
    await expect(provisioner.getConnection('acme-saml')).rejects.toMatchObject({
      code: 'UNKNOWN_CONNECTION',
    });
    provisioner.close!();
  });
});

describe('domains', () => {
  it('verifies a claimed domain through its DNS TXT record; logins then trust it', async () => {
    await samlFromXml();
    const claimed = await admin.claimDomain(A, { domain: 'Acme.Example.' });
    expect(claimed).toMatchObject({
      domain: 'acme.example',
      status: 'pending',
      dns: { name: '_jit-sso-challenge.acme.example', type: 'TXT' },
    });
    expect(claimed.dns.value).toMatch(/^jit-sso-domain-verification=[A-Za-z0-9_-]{32}$/);
    const missing = await refusal(admin.verifyDomain(A, 'acme.example'));
    expect([missing.code, missing.httpStatus]).toEqual(['DOMAIN_NOT_VERIFIED', 422]);
    dns.records.set('_jit-sso-challenge.acme.example', ['v=spf1 -all', 'jit-sso-domain-verification=wrong']);
    expect((await refusal(admin.verifyDomain(A, 'acme.example'))).code).toBe('DOMAIN_NOT_VERIFIED');
    dns.records.set('_jit-sso-challenge.acme.example', [claimed.dns.value]);
    const verified = await admin.verifyDomain(A, 'acme.example');
    expect(verified).toMatchObject({ status: 'verified', verifiedAt: clock.toISOString() });
    expect((await admin.getConnection(A, 'acme-saml')).verifiedDomains).toEqual(['acme.example']);

    const provisioner = createProvisioner({ store: new MemoryStore(), configuration: store });
    try {
      const login = (email: string) =>
        provisioner.provision({
          connectionId: 'acme-saml',
          profile: fromSamlProfile({
            issuer: 'https://idp.acme.test/saml',
            nameID: email,
            nameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
            email,
            groups: ['acme-admins'],
          }),
        });
      expect((await login('ann@acme.example')).roles).toEqual(['admin']);
      await expect(login('eve@elsewhere.test')).rejects.toMatchObject({ code: 'DOMAIN_NOT_ALLOWED' });
      await admin.releaseDomain(A, 'acme.example');
      await provisioner.refreshConfiguration!();
      await expect(login('bob@acme.example')).rejects.toMatchObject({ code: 'DOMAIN_NOT_ALLOWED' });
    } finally {
      provisioner.close!();
    }
  });

  it.each([
    ['a public suffix', 'co.uk', 'DOMAIN_PUBLIC_SUFFIX', 422],
    ['a private-section public suffix', 'github.io', 'DOMAIN_PUBLIC_SUFFIX', 422],
    ['not a domain', 'acme', 'DOMAIN_INVALID', 400],
    ['a wildcard', '*.acme.com', 'DOMAIN_INVALID', 400],
    ['an email', 'ann@acme.com', 'DOMAIN_INVALID', 400],
  ])('refuses to claim %s', async (_what, domain, code, status) => {
    const error = await refusal(admin.claimDomain(A, { domain }));
    expect([error.code, error.httpStatus]).toEqual([code, status]);
    expect(await store.configurationVersion()).toBe(0);
  });

  it('refuses a domain claimed twice, by the same tenant or another', async () => {
    await admin.claimDomain(A, { domain: 'acme.example' });
    expect((await refusal(admin.claimDomain(A, { domain: 'acme.example' }))).code).toBe(
      'DOMAIN_ALREADY_CLAIMED',
    );
    const taken = await refusal(admin.claimDomain(B, { domain: 'ACME.example' }));
    expect([taken.code, taken.httpStatus]).toEqual(['DOMAIN_TAKEN', 409]);
    expect(await admin.listDomains(B)).toEqual([]);
  });

  it('gives a domain to one of two tenants claiming it at once', async () => {
    const outcomes = await Promise.allSettled([
      admin.claimDomain(A, { domain: 'contested.example' }),
      admin.claimDomain(B, { domain: 'contested.example' }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as AdminError).code).toBe('DOMAIN_TAKEN');
  });

  it('answers DNS_UNAVAILABLE when the resolver fails', async () => {
    const failing = createAdminService({
      configuration: store,
      publicUrl: APP,
      dns: { resolveTxt: () => Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })) },
    });
    await failing.claimDomain(A, { domain: 'acme.example' });
    const error = await refusal(failing.verifyDomain(A, 'acme.example'));
    expect([error.code, error.httpStatus]).toEqual(['DNS_UNAVAILABLE', 502]);
  });
});

describe('mapping preview and the sign-in tracer', () => {
  it('shows what the last login would map to under a draft, and the attempts with values redacted', async () => {
    await samlFromXml();
    expect((await refusal(admin.previewMapping(A, 'acme-saml'))).code).toBe('NO_SAMPLE_LOGIN');
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      configuration: store,
      onSignInAttempt: tracer.record,
    });
    try {
      await provisioner
        .provision({
          connectionId: 'acme-saml',
          profile: fromSamlProfile({
            issuer: 'https://idp.acme.test/saml',
            nameID: 'u1',
            nameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
            email: 'ann@acme.example',
            firstName: 'Ann',
            department: 'IT',
            groups: ['acme-admins', 'it'],
          }),
        })
        .catch(() => undefined);
    } finally {
      provisioner.close!();
    }
    const [attempt] = await admin.recentAttempts(A, 'acme-saml');
    expect(attempt).toMatchObject({ subject: 'u1', outcome: 'DOMAIN_NOT_ALLOWED', ok: false });
    expect(attempt!.hint).toMatch(/verify the email domain/);
    expect(attempt!.attributes).toMatchObject({
      email: ['•••@acme.example'],
      firstName: ['•••'],
      groups: ['acme-admins', 'it'],
    });
    expect(JSON.stringify(attempt)).not.toContain('Ann');

    const saved = await admin.previewMapping(A, 'acme-saml');
    expect(saved).toMatchObject({
      outcome: 'ok',
      roles: ['admin'],
      groups: ['acme-admins', 'it'],
      email: '•••@acme.example',
    });
    const draft = await admin.previewMapping(A, 'acme-saml', {
      mapping: { department: 'department' },
      jit: { roleRules: [{ group: 'it', roles: ['it-admin'] }] },
    });
    expect(draft.roles).toEqual(['it-admin']);
    expect(draft.attributes['department']).toEqual(['•••']);
    const strict = await admin.previewMapping(A, 'acme-saml', {
      jit: { roleRules: [{ group: 'nobody', roles: ['x'] }], strictRoles: true },
    });
    expect(strict).toMatchObject({ outcome: 'NO_ROLE_GRANTED', roles: null });
    const missing = await admin.previewMapping(A, 'acme-saml', {
      mapping: { email: { from: 'mail', required: true } },
    });
    expect(missing.outcome).toBe('MISSING_ATTRIBUTE');
    // Previewing changes nothing.
    expect((await admin.getConnection(A, 'acme-saml')).version).toBe(1);
  });

  it('keeps attempts for a bounded time and number', async () => {
    let now = new Date('2026-06-01T00:00:00Z');
    const bounded = new MemorySignInTracer({ retentionMs: 60_000, perConnection: 3, now: () => now });
    const attempt = (i: number) => ({
      at: new Date(now.getTime() + i),
      connectionId: 'c',
      tenantId: 'acme',
      subject: `s${i}`,
      outcome: 'created',
      ok: true,
      hint: null,
      userId: null,
      roles: [],
      profile: null,
      test: false,
    });
    for (let i = 0; i < 5; i++) bounded.record(attempt(i));
    expect((await bounded.list('c')).map((a) => a.subject)).toEqual(['s4', 's3', 's2']);
    now = new Date(now.getTime() + 120_000);
    expect(await bounded.list('c')).toEqual([]);
  });
});

describe('tenant isolation', () => {
  beforeEach(async () => {
    await samlFromXml(A);
    await admin.claimDomain(A, { domain: 'acme.example' });
  });

  it.each(foreignCalls)('%s of another tenant is NOT_FOUND, and changes nothing', async (_name, call) => {
    const before = await store.configurationVersion();
    const error = await refusal(call(admin));
    expect([error.code, error.httpStatus]).toEqual(['NOT_FOUND', 404]);
    expect(await store.configurationVersion()).toBe(before);
    expect((await store.getConnection('acme-saml'))?.version).toBe(1);
    expect((await store.getDomain('acme.example'))?.tenantId).toBe('acme');
  });

  it('lists only the caller’s own connections, domains and changes', async () => {
    expect(await admin.listConnections(B)).toEqual([]);
    expect(await admin.listDomains(B)).toEqual([]);
    expect(await admin.listChanges(B)).toEqual([]);
    expect((await admin.getTenant(B)).connections).toEqual([]);
    expect((await admin.listConnections(A)).map((c) => c.id)).toEqual(['acme-saml']);
  });

  it('refuses a caller who administers no tenant', async () => {
    const error = await refusal(admin.listConnections({ actor: '', tenantId: 'acme' }));
    expect([error.code, error.httpStatus]).toEqual(['UNAUTHENTICATED', 401]);
    expect((await refusal(admin.getConnection({ actor: 'x', tenantId: '' }, 'acme-saml'))).code).toBe(
      'UNAUTHENTICATED',
    );
  });
});

describe('SCIM tokens', () => {
  it('issues one per tenant directory, lists it without its secret, and keeps tenants apart', async () => {
    const directory = new MemoryDirectoryStore();
    const service = createAdminService({ configuration: store, publicUrl: APP, directory, now: () => clock });
    const { token, record } = await service.issueScimToken(A, { label: 'okta' });
    expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    expect((await directory.findTokenByHash(hashToken(token)))?.id).toBe(record.id);
    expect(await service.listScimTokens(A)).toEqual([record]);
    expect(await service.listScimTokens(B)).toEqual([]);
    const foreign = await refusal(service.revokeScimToken(B, record.id));
    expect([foreign.code, foreign.httpStatus]).toEqual(['NOT_FOUND', 404]);
    expect((await directory.findTokenByHash(hashToken(token)))?.revokedAt).toBeNull();
    // A second token goes to the same directory.
    const second = await service.issueScimToken(A, {});
    expect(second.record.directoryId).toBe(record.directoryId);
    expect((await service.revokeScimToken(A, record.id)).revokedAt).toBe(clock.toISOString());
    expect(
      (await store.listConfigurationEvents({ tenantId: 'acme', limit: 10 })).map((e) => [e.action, e.actor]),
    ).toEqual([
      ['scim-token.issued', A.actor],
      ['scim-token.issued', A.actor],
      ['scim-token.revoked', A.actor],
    ]);
  });

  it('revokes a token whose change could not be recorded, and answers STORE_FAILURE', async () => {
    const directory = new MemoryDirectoryStore();
    const failing = Object.create(store) as MemoryConfigurationStore;
    failing.configurationTransaction = () =>
      Promise.reject(new StoreError('The configuration database failed.'));
    const service = createAdminService({ configuration: failing, publicUrl: APP, directory });
    const error = await refusal(service.issueScimToken(A, {}));
    expect([error.code, error.httpStatus]).toEqual(['STORE_FAILURE', 503]);
    const [dir] = await directory.listDirectories('acme');
    const tokens = await directory.listTokens(dir!.id);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.revokedAt).not.toBeNull();
  });

  it('is NOT_FOUND without a directory store', async () => {
    const error = await refusal(admin.listScimTokens(A));
    expect(error.code).toBe('NOT_FOUND');
  });
});
