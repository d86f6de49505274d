import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import express from 'express';
import request from 'supertest';
import { Passport, Strategy } from 'passport';
import {
  ConfigurationError,
  createProvisioner,
  fromSamlProfile,
  MemoryDirectoryStore,
  MemoryStore,
  type ConnectionInput,
  type JitLogger,
  type Provisioner,
} from '@jit-sso/core';
import { createDirectory, createScimService, issueDirectoryToken } from '@jit-sso/scim';
import {
  createOidcStrategies,
  createSamlStrategy,
  jitErrorHandler,
  MemoryReplayCache,
  requireActiveUser,
  samlAuthenticate,
  scimRouter,
} from '../src/index.js';

const IDP_CERT = readFileSync(new URL('certs/idp-cert.pem', import.meta.url), 'utf8');
const ISSUER = 'https://idp.acme.test/saml';
const SAML_RESPONSE = 'PHNhbWxwOlJlc3BvbnNlIElEPSJfc2VjcmV0LWFzc2VydGlvbiI+';
const BEARER = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWJlYXJlcg.c2lnbmF0dXJl';
const PASSWORD = 'Sup3r-Secret-Passw0rd';

const samlConnection = (id: string, saml: Record<string, unknown> = {}): ConnectionInput => ({
  id,
  tenantId: 'acme',
  protocol: 'saml',
  issuer: ISSUER,
  jit: { verifiedDomains: ['acme.test'] },
  protocolOptions: {
    saml: {
      entryPoint: 'https://idp.acme.test/sso',
      idpCert: IDP_CERT,
      spEntityId: 'https://app.test/saml',
      acsUrl: `https://app.test/auth/saml/${id}/acs`,
      ...saml,
    },
  },
});

function recorder() {
  const lines: Array<{ record: Record<string, unknown>; message: string }> = [];
  const logger: JitLogger = { error: (record, message) => void lines.push({ record, message }) };
  return { logger, lines, text: () => JSON.stringify(lines) };
}

/** The store of an app whose migrations never ran. */
class MissingTablesStore extends MemoryStore {
  override transaction<T>(): Promise<T> {
    return Promise.reject(
      Object.assign(new Error('SQLITE_ERROR: no such table: jit_users'), { code: 'SQLITE_ERROR' }),
    );
  }
  override findUserById(): never {
    throw Object.assign(new Error('SQLITE_ERROR: no such table: jit_users'), { code: 'SQLITE_ERROR' });
  }
}

/** Stands in for passport-saml once it has verified the response: the engine provisions the person. */
class VerifiedSamlStrategy extends Strategy {
  override name = 'verified-saml';
  constructor(private readonly provisioner: Provisioner) {
    super();
  }
  override authenticate(): void {
    this.provisioner
      .provision({
        connectionId: 'acme',
        profile: fromSamlProfile({ issuer: ISSUER, nameID: 'ann', attributes: { email: 'ann@acme.test' } }),
      })
      .then(
        (result) => this.success(result.user, { result }),
        (error: Error) => this.error(error),
      );
  }
}

function signInApp(logger: JitLogger) {
  const provisioner = createProvisioner({
    store: new MissingTablesStore(),
    connections: [samlConnection('acme')],
  });
  const passport = new Passport();
  passport.use(new VerifiedSamlStrategy(provisioner));
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post(
    '/auth/saml/:connection/acs',
    samlAuthenticate(passport, { provisioner, strategy: 'verified-saml', session: false }),
    (_req, res) => void res.send('signed in'),
  );
  app.get('/me', requireActiveUser(provisioner), (req, res) => void res.json({ email: req.user!.email }));
  app.use(jitErrorHandler({ logger }));
  return app;
}

describe('failures are logged with their cause, refusals are not', () => {
  it('logs a sign-in the store failed, with the driver error, and none of the secrets sent', async () => {
    const log = recorder();
    const res = await request(signInApp(log.logger))
      .post('/auth/saml/acme/acs?code=query-code-secret')
      .set('Authorization', `Bearer ${BEARER}`)
      .set('Accept', 'application/json')
      .type('form')
      .send({ SAMLResponse: SAML_RESPONSE, RelayState: '/home', password: PASSWORD });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('STORE_FAILURE');
    expect(res.text).not.toContain('no such table');
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.message).toBe(
      'POST /auth/saml/acme/acs answered 503 STORE_FAILURE: StoreError: The account store failed during sign-in.' +
        ' <- caused by Error: SQLITE_ERROR: no such table: jit_users',
    );
    for (const secret of [BEARER, SAML_RESPONSE, PASSWORD, 'query-code-secret'])
      expect(log.text()).not.toContain(secret);
  });

  it('logs nothing for a refusal (401)', async () => {
    const log = recorder();
    const res = await request(signInApp(log.logger)).get('/me').set('Accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_ENDED');
    expect(log.lines).toHaveLength(0);
  });

  it('logs a SCIM request the store failed, and not its token or password', async () => {
    const store = new MemoryDirectoryStore();
    const directory = await createDirectory(store, { tenantId: 'acme' });
    const { token } = await issueDirectoryToken(store, directory.id);
    store.directoryTransaction = () =>
      Promise.reject(new Error('SQLITE_ERROR: no such table: jit_scim_resources'));
    const log = recorder();
    const app = express();
    app.use(
      '/scim/v2',
      scimRouter(createScimService({ store, baseUrl: 'https://app.test/scim/v2', logger: log.logger })),
    );
    const res = await request(app)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ann', password: PASSWORD });
    expect(res.status).toBe(500);
    expect(log.lines[0]!.message).toContain('no such table: jit_scim_resources');
    for (const secret of [token, PASSWORD]) expect(log.text()).not.toContain(secret);
  });
});

describe('strategies check every connection when they are built', () => {
  const configurationError = (build: () => unknown): string => {
    try {
      build();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return (error as Error).message;
    }
    throw new Error('the strategy was built');
  };
  const provisionerWith = (...connections: ConnectionInput[]) =>
    createProvisioner({ store: new MemoryStore(), connections });

  it('refuses a SAML connection with a bad certificate or no acsUrl', () => {
    const replayCache = new MemoryReplayCache();
    expect(
      configurationError(() =>
        createSamlStrategy({
          provisioner: provisionerWith(
            samlConnection('acme'),
            samlConnection('globex', { idpCert: 'MIIC-not-a-cert' }),
          ),
          replayCache,
        }),
      ),
    ).toBe(
      'Invalid connection "globex": protocolOptions.saml.idpCert is not a PEM or base64 X.509 certificate.',
    );
    expect(
      configurationError(() =>
        createSamlStrategy({
          provisioner: provisionerWith(samlConnection('acme', { acsUrl: undefined })),
          replayCache,
        }),
      ),
    ).toBe('Invalid connection "acme": protocolOptions.saml.acsUrl is required.');
  });

  it('refuses an OIDC connection without its redirect URI', () => {
    const provisioner = provisionerWith({
      id: 'acme-oidc',
      tenantId: 'acme',
      protocol: 'oidc',
      issuer: 'https://login.acme.test',
      jit: { verifiedDomains: ['acme.test'] },
      protocolOptions: { oidc: { clientId: 'app' } },
    });
    expect(configurationError(() => createOidcStrategies({ provisioner }))).toBe(
      'Invalid connection "acme-oidc": protocolOptions.oidc.redirectUri is required.',
    );
  });
});
