import { readFileSync } from 'node:fs';
import Koa from 'koa';
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import session from 'koa-session';
import koaPassport from 'koa-passport';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, createProvisioner, MemoryStore, type Provisioner } from '@jit-sso/core';
import { MemoryReplayCache } from '@jit-sso/protocol';
import {
  createSamlStrategy,
  jitErrorHandler,
  samlAuthenticate,
  samlMetadata,
  useJitSession,
  type JitState,
  createOidcStrategies,
} from '../src/index.js';

const IDP_CERT = readFileSync(new URL('certs/idp-cert.pem', import.meta.url), 'utf8');

const ENTRY = 'https://idp.acme.test/sso';
const ACS = 'https://app.test/auth/saml/acme-saml/acs';

function buildApp(jit: Provisioner): Koa<JitState> {
  const passport = new koaPassport.KoaPassport();
  useJitSession(passport, jit);
  const saml = createSamlStrategy({ provisioner: jit, replayCache: new MemoryReplayCache() });
  passport.use(saml);
  const app = new Koa<JitState>();
  app.keys = ['test-key'];
  app.silent = true;
  app.use(jitErrorHandler());
  app.use(session({}, app));
  app.use(bodyParser());
  app.use(passport.initialize());
  app.use(passport.session());
  const router = new Router<JitState>();
  router.get('/auth/saml/:connection/login', samlAuthenticate(passport, { provisioner: jit }));
  router.post('/auth/saml/:connection/acs', samlAuthenticate(passport, { provisioner: jit }), (ctx) => {
    ctx.redirect('/');
  });
  router.get('/auth/saml/:connection/metadata', samlMetadata(saml, { provisioner: jit }));
  app.use(router.routes());
  return app;
}

describe('Koa SAML routes', () => {
  let jit: Provisioner;
  let store: MemoryStore;
  let app: Koa<JitState>;

  beforeEach(() => {
    store = new MemoryStore();
    jit = createProvisioner({
      store,
      connections: [
        {
          id: 'acme-saml',
          tenantId: 'acme',
          protocol: 'saml',
          issuer: 'https://idp.acme.test/metadata',
          jit: { verifiedDomains: ['acme.test'] },
          protocolOptions: {
            saml: {
              entryPoint: ENTRY,
              idpCert: IDP_CERT,
              spEntityId: 'https://app.test/saml',
              acsUrl: ACS,
            },
          },
        },
      ],
    });
    app = buildApp(jit);
  });

  const denials = async () =>
    (await store.listAuditEvents({ limit: 100 })).filter((e) => e.action === 'denied').map((e) => e.reason);

  it('starts a sign-in by redirecting to the IdP with a SAMLRequest', async () => {
    const res = await request(app.callback()).get('/auth/saml/acme-saml/login').expect(302);
    expect(res.headers['location']).toMatch(new RegExp(`^${ENTRY}\\?SAMLRequest=`));
  });

  it('refuses an unknown connection with UNKNOWN_CONNECTION', async () => {
    const res = await request(app.callback())
      .get('/auth/saml/nobody/login')
      .set('Accept', 'application/json')
      .expect(404);
    expect(res.body.error.code).toBe('UNKNOWN_CONNECTION');
  });

  it('refuses a response with a DOCTYPE before parsing it, and audits the denial', async () => {
    const xml =
      '<!DOCTYPE r [<!ENTITY x "y">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>';
    const res = await request(app.callback())
      .post('/auth/saml/acme-saml/acs')
      .set('Accept', 'application/json')
      .type('form')
      .send({ SAMLResponse: Buffer.from(xml).toString('base64') })
      .expect(400);
    expect(res.body.error.code).toBe('SAML_DOCTYPE_FORBIDDEN');
    expect(await denials()).toEqual(['SAML_DOCTYPE_FORBIDDEN']);
  });

  it('refuses an unsigned response with SAML_RESPONSE_INVALID, without the library message', async () => {
    const xml =
      '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"/>';
    const res = await request(app.callback())
      .post('/auth/saml/acme-saml/acs')
      .set('Accept', 'application/json')
      .type('form')
      .send({ SAMLResponse: Buffer.from(xml).toString('base64') })
      .expect(401);
    expect(res.body.error.code).toMatch(/^SAML_/);
    expect(Object.keys(res.body.error).sort()).toEqual(['code', 'hint', 'message']);
    expect(await denials()).toEqual([res.body.error.code]);
  });

  it('answers a POST without a SAMLResponse with a new sign-in, not a session', async () => {
    const res = await request(app.callback())
      .post('/auth/saml/acme-saml/acs')
      .type('form')
      .send({})
      .expect(302);
    expect(res.headers['location']).toMatch(new RegExp(`^${ENTRY}\\?SAMLRequest=`));
    // Only the cookie that binds the new login to this browser; no session.
    const cookies = (res.headers['set-cookie'] ?? []) as unknown as string[];
    expect(cookies.map((c) => c.split('=')[0])).toEqual(['jit-sso-login']);
    expect(cookies[0]).toMatch(/; httponly/i);
  });

  it('serves the SP metadata of the connection', async () => {
    const res = await request(app.callback()).get('/auth/saml/acme-saml/metadata').expect(200);
    expect(res.headers['content-type']).toMatch(/application\/samlmetadata\+xml/);
    expect(res.text).toContain('entityID="https://app.test/saml"');
    expect(res.text).toContain(`Location="${ACS}"`);
  });
});

describe('Koa strategies check every connection when they are built', () => {
  const provisionerWith = (protocolOptions: Record<string, unknown>, protocol: 'saml' | 'oidc') =>
    createProvisioner({
      store: new MemoryStore(),
      connections: [
        {
          id: 'acme-bad',
          tenantId: 'acme',
          protocol,
          issuer: 'https://idp.acme.test/metadata',
          jit: { verifiedDomains: ['acme.test'] },
          protocolOptions: { [protocol]: protocolOptions },
        },
      ],
    });
  const saml = { entryPoint: ENTRY, idpCert: IDP_CERT, spEntityId: 'https://app.test/saml', acsUrl: ACS };

  it('refuses a SAML connection with a bad certificate or without acsUrl, naming the connection and field', () => {
    const replayCache = new MemoryReplayCache();
    const badCert = () =>
      createSamlStrategy({
        provisioner: provisionerWith({ ...saml, idpCert: 'MIIC-bad' }, 'saml'),
        replayCache,
      });
    expect(badCert).toThrow(ConfigurationError);
    expect(badCert).toThrow(
      'Invalid connection "acme-bad": protocolOptions.saml.idpCert is not a PEM or base64 X.509 certificate.',
    );
    expect(() =>
      createSamlStrategy({
        provisioner: provisionerWith({ ...saml, acsUrl: undefined }, 'saml'),
        replayCache,
      }),
    ).toThrow('Invalid connection "acme-bad": protocolOptions.saml.acsUrl is required.');
  });

  it('refuses an OIDC connection without a client id', () => {
    expect(() =>
      createOidcStrategies({ provisioner: provisionerWith({ redirectUri: 'https://app.test/cb' }, 'oidc') }),
    ).toThrow('Invalid connection "acme-bad": protocolOptions.oidc.clientId is required.');
  });
});
