import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  createProvisioner,
  MemoryStore,
  type ConnectionInput,
  type JitError,
  type UserRecord,
} from '@jit-sso/core';
import {
  createOidcStrategies,
  createSamlStrategy,
  readSamlSettings,
  samlOptionsFor,
  MemoryReplayCache,
} from '../src/index.js';

const CERT = readFileSync(new URL('fixtures/idp-cert.pem', import.meta.url), 'utf8').trim();
const CERT_BODY = CERT.replace(/-----[A-Z ]+-----|\s/g, '');

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
    idpCert: [CERT, CERT_BODY],
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
      idpCert: [CERT, CERT_BODY],
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
      [{ ...saml, idpCert: [CERT, 'MIIC-not-a-certificate'] }, 'idpCert[1]'],
      [{ ...saml, idpCert: CERT.replace('MII', 'MIX') }, 'idpCert'],
      [{ ...saml, publicCert: 'not a certificate' }, 'publicCert'],
      [{ ...saml, privateKey: 'not a key' }, 'privateKey'],
    ] as const) {
      const connection = await connectionWith(options);
      expect(() => readSamlSettings(connection)).toThrow(`protocolOptions.saml.${field} `);
    }
  });
});

describe('strategies built from the connections check every one of them at start-up', () => {
  const connection = (id: string, protocol: 'saml' | 'oidc', options: Record<string, unknown>) =>
    ({
      id,
      tenantId: 'acme',
      protocol,
      issuer: `https://idp.test/${id}`,
      jit: { verifiedDomains: ['acme.test'] },
      protocolOptions: { [protocol]: options },
    }) as ConnectionInput;
  const saml = {
    entryPoint: 'https://idp.test/sso',
    idpCert: CERT,
    spEntityId: 'https://app.test/sp',
    acsUrl: 'https://app.test/acs',
  };
  const oidc = { clientId: 'app', redirectUri: 'https://app.test/cb' };
  const provisionerWith = (...connections: ConnectionInput[]) =>
    createProvisioner({ store: new MemoryStore(), connections });
  const refusal = (build: () => unknown) => {
    try {
      build();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return (error as Error).message;
    }
    throw new Error('the strategy was built');
  };

  it('refuses a SAML connection with a bad certificate or no acsUrl, naming the connection and the field', () => {
    const replayCache = new MemoryReplayCache();
    const badCert = provisionerWith(
      connection('good', 'saml', saml),
      connection('bad-cert', 'saml', { ...saml, idpCert: 'MIIC-not-a-certificate' }),
    );
    expect(refusal(() => createSamlStrategy({ provisioner: badCert, replayCache }))).toBe(
      'Invalid connection "bad-cert": protocolOptions.saml.idpCert is not a PEM or base64 X.509 certificate.',
    );
    const noAcs = provisionerWith(connection('no-acs', 'saml', { ...saml, acsUrl: undefined }));
    expect(refusal(() => createSamlStrategy({ provisioner: noAcs, replayCache }))).toBe(
      'Invalid connection "no-acs": protocolOptions.saml.acsUrl is required.',
    );
    expect(() =>
      createSamlStrategy({ provisioner: provisionerWith(connection('good', 'saml', saml)), replayCache }),
    ).not.toThrow();
  });

  it('refuses an OIDC connection without a client id', () => {
    const provisioner = provisionerWith(
      connection('good', 'oidc', oidc),
      connection('no-client', 'oidc', { redirectUri: oidc.redirectUri }),
    );
    expect(refusal(() => createOidcStrategies({ provisioner }))).toBe(
      'Invalid connection "no-client": protocolOptions.oidc.clientId is required.',
    );
  });

  it('leaves connections from a loader to be checked as they load', async () => {
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      connections: async (id) => connection(id, 'saml', { ...saml, acsUrl: undefined }),
    });
    const strategy = createSamlStrategy({ provisioner, replayCache: new MemoryReplayCache() });
    expect(strategy.name).toBe('saml');
    await expect(provisioner.getConnection('later').then(readSamlSettings)).rejects.toThrow(
      'Invalid connection "later": protocolOptions.saml.acsUrl is required.',
    );
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
