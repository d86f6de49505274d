import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createProvisioner,
  MemoryStore,
  type JitError,
  type ProvisioningEvent,
  type UserRecord,
} from '@jit-sso/core';
import type { Profile } from '@node-saml/node-saml';
import { deflateRawSync } from 'node:zlib';
import { bindLoginsOf, MemoryReplayCache, oidcVerify, samlVerify, type ReplayCache } from '../src/index.js';
import { bindLogin } from '../src/login-binding.js';

const IDP = 'https://idp.test/metadata';
const ACS = 'https://app.test/auth/saml/acme/acs';

function setup(onEvent?: (event: ProvisioningEvent) => void) {
  const store = new MemoryStore();
  const provisioner = createProvisioner({
    store,
    ...(onEvent ? { onEvent } : {}),
    connections: [
      {
        id: 'acme',
        tenantId: 'acme',
        protocol: 'saml',
        issuer: IDP,
        jit: { verifiedDomains: ['acme.test'], emailAuthoritative: true },
        protocolOptions: {
          saml: {
            entryPoint: 'https://idp.test/sso',
            idpCert: readFileSync(new URL('fixtures/idp-cert.pem', import.meta.url), 'utf8'),
            spEntityId: 'https://app.test/sp',
            acsUrl: ACS,
          },
        },
      },
      {
        id: 'oidc',
        tenantId: 'acme',
        protocol: 'oidc',
        issuer: 'https://op.test',
        jit: { verifiedDomains: ['acme.test'] },
      },
    ],
  });
  return { store, provisioner };
}

/** A profile as node-saml returns it after verifying the signature (the XML is what it verified). */
function profile(o: { nameID: string; recipient?: string; format?: string; id?: string }): Profile {
  const assertion =
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${o.id ?? '_a' + o.nameID}"><saml:Issuer>${IDP}</saml:Issuer>` +
    `<saml:Subject><saml:NameID>${o.nameID}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData Recipient="${o.recipient ?? ACS}" NotOnOrAfter="${new Date(Date.now() + 60_000).toISOString()}"/>` +
    `</saml:SubjectConfirmation></saml:Subject></saml:Assertion>`;
  return {
    issuer: IDP,
    nameID: o.nameID,
    nameIDFormat: o.format ?? 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    attributes: { email: `${o.nameID}@acme.test` },
    getAssertionXml: () => assertion,
    getSamlResponseXml: () =>
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="_r${o.nameID}">${assertion}</samlp:Response>`,
  } as Profile;
}

/** A browser that started the login answered by `profile({ nameID })`, as the login route records it. */
async function startedIn(cache: ReplayCache, nameID: string, connectionId = 'acme') {
  const xml = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r${nameID}"/>`;
  const location = `https://idp.test/sso?SAMLRequest=${encodeURIComponent(deflateRawSync(xml).toString('base64'))}`;
  const [cookie] = await bindLogin(bindLoginsOf({}, cache), {}, connectionId, location);
  return { headers: { cookie: `other=1; ${cookie!.name}=${cookie!.value}` } };
}

function run<Req>(
  verify: (req: Req, p: never, done: (e: Error | null, u?: object | false) => void) => void,
  req: Req,
  p: unknown,
) {
  return new Promise<{ error: JitError | null; user: UserRecord | null }>((resolve) =>
    verify(req, p as never, (error, user) =>
      resolve({ error: error as JitError | null, user: (user || null) as UserRecord | null }),
    ),
  );
}

describe('samlVerify', () => {
  it('provisions a verified profile, then refuses its replay, auditing the refusal once', async () => {
    const { store, provisioner } = setup();
    const cache = new MemoryReplayCache();
    const verify = samlVerify<object>({ provisioner, replayCache: cache, connectionId: () => 'acme' });
    const browser = await startedIn(cache, 'ann');
    const first = await run(verify, browser, profile({ nameID: 'ann' }));
    expect(first.error).toBeNull();
    expect(first.user?.email).toBe('ann@acme.test');
    const again = await run(verify, browser, profile({ nameID: 'ann' }));
    expect(again.error?.code).toBe('SAML_REPLAY');
    const denials = (await store.listAuditEvents({ tenantId: 'acme', limit: 10 })).filter(
      (e) => e.action === 'denied',
    );
    expect(denials.map((e) => [e.reason, e.subject])).toEqual([['SAML_REPLAY', 'ann']]);
  });

  it('refuses the tenant of another URL, a foreign Recipient and a transient NameID, creating nothing', async () => {
    const { store, provisioner } = setup();
    const cache = new MemoryReplayCache();
    const inOtherTenant = samlVerify<object>({
      provisioner,
      replayCache: cache,
      connectionId: () => 'acme',
      tenantId: () => 'globex',
    });
    expect(
      (await run(inOtherTenant, await startedIn(cache, 'bob'), profile({ nameID: 'bob' }))).error?.code,
    ).toBe('TENANT_MISMATCH');
    const verify = samlVerify<object>({ provisioner, replayCache: cache, connectionId: () => 'acme' });
    expect(
      (
        await run(
          verify,
          await startedIn(cache, 'cid'),
          profile({ nameID: 'cid', recipient: 'https://evil.test/acs' }),
        )
      ).error?.code,
    ).toBe('SAML_RECIPIENT_MISMATCH');
    expect(
      (
        await run(
          verify,
          await startedIn(cache, 'dan'),
          profile({ nameID: 'dan', format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient' }),
        )
      ).error?.code,
    ).toBe('TRANSIENT_SUBJECT');
    expect(await store.listUsers({ tenantId: 'acme', limit: 10 })).toEqual([]);
    const reasons = (await store.listAuditEvents({ tenantId: 'acme', limit: 10 })).map((e) => e.reason);
    expect(reasons).toEqual(['TENANT_MISMATCH', 'SAML_RECIPIENT_MISMATCH', 'TRANSIENT_SUBJECT']);
  });
});

describe('protocol denials through onEvent', () => {
  /** The events a listener saw, as [type, code, audited reason]. */
  function listen() {
    const events: ProvisioningEvent[] = [];
    const seen = () =>
      events.map((e) =>
        e.type === 'denied'
          ? [e.type, e.error.code, e.audit?.reason ?? null]
          : [e.type, e.type === 'provisioned' ? e.result.action : e.audit.action, null],
      );
    return { events, seen, onEvent: (event: ProvisioningEvent) => void events.push(event) };
  }

  it('sends a SAML replay to onEvent once, with the audit event it wrote', async () => {
    const { events, seen, onEvent } = listen();
    const { store, provisioner } = setup(onEvent);
    const cache = new MemoryReplayCache();
    const verify = samlVerify<object>({ provisioner, replayCache: cache, connectionId: () => 'acme' });
    const browser = await startedIn(cache, 'ann');
    await run(verify, browser, profile({ nameID: 'ann' }));
    const again = await run(verify, browser, profile({ nameID: 'ann' }));
    expect(again.error?.code).toBe('SAML_REPLAY');
    expect(seen()).toEqual([
      ['provisioned', 'created', null],
      ['denied', 'SAML_REPLAY', 'SAML_REPLAY'],
    ]);
    const denied = events[1] as Extract<ProvisioningEvent, { type: 'denied' }>;
    expect(denied.error).toBe(again.error);
    const audited = (await store.listAuditEvents({ tenantId: 'acme', limit: 10 })).filter(
      (e) => e.action === 'denied',
    );
    expect(audited).toEqual([denied.audit]);
    expect(denied.audit).toMatchObject({ tenantId: 'acme', connectionId: 'acme', subject: 'ann' });
  });

  it('sends an OIDC refusal to onEvent once, whether the protocol or the engine refused', async () => {
    const { seen, onEvent } = listen();
    const { provisioner } = setup(onEvent);
    const claims = { iss: 'https://op.test', sub: 'u1', email: 'eve@acme.test', email_verified: true };
    await run(oidcVerify<object>({ provisioner, connectionId: 'oidc' }), {}, { claims: () => undefined });
    await run(
      oidcVerify<object>({ provisioner, connectionId: 'oidc', tenantId: () => 'globex' }),
      {},
      { claims: () => claims },
    );
    expect(seen()).toEqual([
      ['denied', 'OIDC_CALLBACK_INVALID', 'OIDC_CALLBACK_INVALID'],
      ['denied', 'TENANT_MISMATCH', 'TENANT_MISMATCH'],
    ]);
  });

  it('audits and sends a refusal at an unknown connection under the "unknown" tenant', async () => {
    const { events, onEvent } = listen();
    const { store, provisioner } = setup(onEvent);
    const refused = await run(
      oidcVerify<object>({ provisioner, connectionId: 'nope' }),
      {},
      {
        claims: () => ({ iss: 'https://op.test', sub: 'u1' }),
      },
    );
    expect(refused.error?.code).toBe('UNKNOWN_CONNECTION');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'denied',
      audit: { tenantId: 'unknown', connectionId: 'nope', subject: 'u1', reason: 'UNKNOWN_CONNECTION' },
    });
    expect(await store.listAuditEvents({ tenantId: 'unknown', limit: 10 })).toEqual([events[0]!.audit]);
  });
});

describe('login binding', () => {
  it('refuses a response in a browser that did not start its login, or on another connection', async () => {
    const { store, provisioner } = setup();
    const cache = new MemoryReplayCache();
    const verify = samlVerify<object>({ provisioner, replayCache: cache, connectionId: () => 'acme' });
    await startedIn(cache, 'eve');
    const elsewhere = await run(verify, { headers: {} }, profile({ nameID: 'eve' }));
    expect(elsewhere.error?.code).toBe('LOGIN_NOT_STARTED_HERE');
    const otherConnection = await startedIn(cache, 'fay', 'globex-saml');
    expect((await run(verify, otherConnection, profile({ nameID: 'fay' }))).error?.code).toBe(
      'LOGIN_NOT_STARTED_HERE',
    );
    const forged = { headers: { cookie: `jit-sso-login=${'A'.repeat(43)}` } };
    await startedIn(cache, 'gus');
    expect((await run(verify, forged, profile({ nameID: 'gus' }))).error?.code).toBe(
      'LOGIN_NOT_STARTED_HERE',
    );
    expect(await store.listUsers({ tenantId: 'acme', limit: 10 })).toEqual([]);
    const reasons = (await store.listAuditEvents({ tenantId: 'acme', limit: 10 })).map((e) => e.reason);
    expect(reasons).toEqual(['LOGIN_NOT_STARTED_HERE', 'LOGIN_NOT_STARTED_HERE', 'LOGIN_NOT_STARTED_HERE']);
  });
});

describe('oidcVerify', () => {
  it('provisions from the validated claims and passes the tenant of the URL to the engine', async () => {
    const { provisioner } = setup();
    const claims = { iss: 'https://op.test', sub: 'u1', email: 'eve@acme.test', email_verified: true };
    const ok = await run(
      oidcVerify<object>({ provisioner, connectionId: 'oidc' }),
      {},
      { claims: () => claims },
    );
    expect(ok.user?.email).toBe('eve@acme.test');
    const other = await run(
      oidcVerify<object>({ provisioner, connectionId: 'oidc', tenantId: () => 'globex' }),
      {},
      { claims: () => claims },
    );
    expect(other.error?.code).toBe('TENANT_MISMATCH');
    const none = await run(
      oidcVerify<object>({ provisioner, connectionId: 'oidc' }),
      {},
      { claims: () => undefined },
    );
    expect(none.error?.code).toBe('OIDC_CALLBACK_INVALID');
  });
});

describe('oidcVerify on a multi-tenant Entra connection', () => {
  const ISSUER = 'https://login.microsoftonline.com/organizations/v2.0';
  function entra() {
    const store = new MemoryStore();
    const provisioner = createProvisioner({
      store,
      connections: [
        {
          id: 'entra',
          tenantId: 'acme',
          protocol: 'oidc',
          issuer: ISSUER,
          preset: 'entra-oidc',
          allowedTenantIds: ['tid-acme'],
          jit: { verifiedDomains: ['acme.test'] },
        },
      ],
    });
    return { store, verify: oidcVerify<object>({ provisioner, connectionId: 'entra' }) };
  }
  const claims = (tid: string, issTid = tid) => ({
    iss: `https://login.microsoftonline.com/${issTid}/v2.0`,
    sub: `sub-${tid}`,
    tid,
    oid: `oid-${tid}`,
    email: `${tid}@acme.test`,
    email_verified: true,
  });

  it('admits an allow-listed directory under the connection’s issuer', async () => {
    const { verify } = entra();
    const ok = await run(verify, {}, { claims: () => claims('tid-acme') });
    expect(ok.error).toBeNull();
    expect(ok.user?.email).toBe('tid-acme@acme.test');
  });

  it('refuses another directory, and a token whose issuer is not its tid’s directory', async () => {
    const { store, verify } = entra();
    expect((await run(verify, {}, { claims: () => claims('tid-evil') })).error?.code).toBe(
      'OIDC_TENANT_NOT_ALLOWED',
    );
    expect((await run(verify, {}, { claims: () => claims('tid-acme', 'tid-evil') })).error?.code).toBe(
      'OIDC_CALLBACK_INVALID',
    );
    expect(await store.listUsers({ tenantId: 'acme', limit: 10 })).toEqual([]);
  });
});
