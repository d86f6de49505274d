import { describe, expect, it } from 'vitest';
import { createProvisioner, MemoryStore, type JitError, type UserRecord } from '@jit-sso/core';
import { readSamlSettings, samlOptionsFor, MemoryReplayCache } from '../src/index.js';

describe('SAML connection settings', () => {
  const base = {
    id: 'acme',
    tenantId: 'acme',
    protocol: 'saml' as const,
    issuer: 'https://idp.test/metadata',
    jit: { verifiedDomains: ['acme.test'] },
  };
  const saml = {
    entryPoint: 'https://idp.test/sso',
    idpCert: ['CERT1', 'CERT2'],
    spEntityId: 'https://app.test/sp',
    acsUrl: 'https://app.test/acs',
  };
  const connectionWith = async (options: Record<string, unknown>) => {
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      connections: [{ ...base, protocolOptions: { saml: options } }],
    });
    return provisioner.getConnection('acme');
  };

  it('uses safe node-saml defaults', async () => {
    const options = samlOptionsFor(await connectionWith(saml), new MemoryReplayCache());
    expect(options).toMatchObject({
      idpCert: ['CERT1', 'CERT2'],
      issuer: 'https://app.test/sp',
      audience: 'https://app.test/sp',
      callbackUrl: 'https://app.test/acs',
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      acceptedClockSkewMs: 30_000,
      validateInResponseTo: 'always',
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
    });
  });

  it('accepts unsolicited responses only when the connection opts in', async () => {
    const options = samlOptionsFor(
      await connectionWith({ ...saml, allowIdpInitiated: true }),
      new MemoryReplayCache(),
    );
    expect(options.validateInResponseTo).toBe('ifPresent');
  });

  it('refuses unsafe or missing settings by name', async () => {
    for (const [options, field] of [
      [{ ...saml, clockSkewMs: -1 }, 'clockSkewMs'],
      [{ ...saml, clockSkewMs: 300_000 }, 'clockSkewMs'],
      [{ ...saml, idpCert: [] }, 'idpCert'],
      [{ ...saml, acsUrl: 'not a url' }, 'acsUrl'],
      [{ ...saml, spEntityId: undefined }, 'spEntityId'],
    ] as const) {
      const connection = await connectionWith(options);
      expect(() => readSamlSettings(connection)).toThrow(field);
    }
  });
});

describe('passport-openidconnect profiles', () => {
  it('turns the profile into an SsoProfile and provisions through the engine', async () => {
    const { fromPassportOpenIdConnect, passportOpenIdConnectVerify } = await import('../src/index.js');
    const profile = fromPassportOpenIdConnect('https://idp.test', {
      id: 'sub-1',
      emails: [{ value: 'B@T.test' }],
      _json: { email_verified: true, iss: 'https://forged.test', sub: 'forged' },
    });
    expect(profile).toMatchObject({ issuer: 'https://idp.test', subject: 'sub-1', emailVerified: true });
    expect(profile.attributes['email']).toBe('B@T.test');

    const store = new MemoryStore();
    const provisioner = createProvisioner({
      store,
      connections: [
        {
          id: 'c',
          tenantId: 't',
          protocol: 'oidc',
          issuer: 'https://idp.test',
          jit: { verifiedDomains: ['t.test'] },
        },
      ],
    });
    const verify = passportOpenIdConnectVerify({ provisioner, connectionId: 'c' });
    const user = await new Promise<unknown>((resolve, reject) =>
      verify(
        {},
        'https://idp.test',
        { id: 'sub-2', _json: { email: 'c@t.test', email_verified: true } },
        (e, u) => (e ? reject(e) : resolve(u)),
      ),
    );
    expect((user as UserRecord).email).toBe('c@t.test');
    const refused = await new Promise<unknown>((resolve) =>
      verify({}, 'https://other.test', { id: 'sub-3', _json: { email: 'd@t.test' } }, (e) => resolve(e)),
    );
    expect((refused as JitError).code).toBe('ISSUER_MISMATCH');
  });
});

describe('an OIDC issuer that does not answer', () => {
  it('fails with IDP_UNREACHABLE, and is retried at the next login', async () => {
    const { createOidcStrategies } = await import('../src/index.js');
    const { toProtocolError } = await import('../src/index.js');
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      connections: [
        {
          id: 'down',
          tenantId: 't',
          protocol: 'oidc',
          issuer: 'http://127.0.0.1:9',
          jit: { verifiedDomains: ['t.test'] },
          protocolOptions: {
            oidc: { clientId: 'c', redirectUri: 'http://app.test/cb', allowInsecureRequests: true },
          },
        },
      ],
    });
    const strategies = createOidcStrategies({ provisioner });
    await expect(strategies.strategyFor('down')).rejects.toMatchObject({ code: 'IDP_UNREACHABLE' });
    await expect(strategies.strategyFor('down')).rejects.toMatchObject({ code: 'IDP_UNREACHABLE' });
    const refused = Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
    expect(toProtocolError(new TypeError('fetch failed', { cause: refused }), 'oidc').code).toBe(
      'IDP_UNREACHABLE',
    );
    expect(toProtocolError(new Error('unexpected "state" response parameter'), 'oidc').code).toBe(
      'OIDC_CALLBACK_INVALID',
    );
  });
});
