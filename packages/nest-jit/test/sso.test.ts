import { readFileSync } from 'node:fs';
import './fixtures.js';
import { Controller, Get, Header, Inject, Module, Post, Redirect, Req, UseGuards } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import session from 'express-session';
import passport from 'passport';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, type ConnectionInput } from '@jit-sso/core';
import { MemoryReplayCache } from '@jit-sso/protocol';
import {
  JitExceptionFilter,
  JitModule,
  JitSamlStrategy,
  OidcAuthGuard,
  SamlAuthGuard,
} from '../src/index.js';
import { oidcConnection } from './fixtures.js';

const IDP_CERT = readFileSync(new URL('certs/idp-cert.pem', import.meta.url), 'utf8');

const ENTRY = 'https://idp.acme.test/sso';
const ACS = 'https://app.test/auth/saml/acme-saml/acs';

const samlConnection: ConnectionInput = {
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
};

@Controller('auth')
class AuthController {
  constructor(@Inject(JitSamlStrategy) private readonly saml: JitSamlStrategy) {}

  @Get('saml/:connection/login')
  @UseGuards(SamlAuthGuard)
  samlLogin(): void {}

  @Post('saml/:connection/acs')
  @UseGuards(SamlAuthGuard)
  @Redirect('/', 303)
  samlAcs(): void {}

  @Get('saml/:connection/metadata')
  @Header('Content-Type', 'application/samlmetadata+xml')
  metadata(@Req() req: unknown): Promise<string> {
    return this.saml.metadata(req);
  }

  @Get('oidc/:connection/login')
  @UseGuards(OidcAuthGuard)
  oidcLogin(): void {}
}

describe('SAML and OIDC routes of a Nest app', () => {
  let app: INestApplication;
  let store: MemoryStore;

  beforeEach(async () => {
    store = new MemoryStore();
    @Module({
      imports: [
        JitModule.forRoot({
          store,
          connections: [samlConnection, oidcConnection()],
          replayCache: new MemoryReplayCache(),
        }),
      ],
      controllers: [AuthController],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    // The filter made with `new`, outside the container, as `useGlobalFilters` users do.
    app.useGlobalFilters(new JitExceptionFilter());
    app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false }));
    app.use(passport.initialize());
    app.use(passport.session());
    await app.init();
  });
  afterEach(() => app.close());

  const denials = async () =>
    (await store.listAuditEvents({ limit: 100 })).filter((e) => e.action === 'denied').map((e) => e.reason);
  const json = (test: request.Test) => test.set('Accept', 'application/json');

  it('starts a SAML sign-in by redirecting to the IdP with a SAMLRequest', async () => {
    const res = await request(app.getHttpServer()).get('/auth/saml/acme-saml/login').expect(302);
    expect(res.headers['location']).toMatch(new RegExp(`^${ENTRY}\\?SAMLRequest=`));
  });

  it('answers an unknown connection, or one of the other protocol, with UNKNOWN_CONNECTION', async () => {
    for (const path of [
      '/auth/saml/nobody/login',
      '/auth/saml/acme-oidc/login',
      '/auth/oidc/acme-saml/login',
    ]) {
      const res = await json(request(app.getHttpServer()).get(path)).expect(404);
      expect(res.body.error.code).toBe('UNKNOWN_CONNECTION');
    }
  });

  it('refuses a response with a DOCTYPE before parsing it, and audits the denial', async () => {
    const xml =
      '<!DOCTYPE r [<!ENTITY x "y">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>';
    const res = await json(request(app.getHttpServer()).post('/auth/saml/acme-saml/acs'))
      .type('form')
      .send({ SAMLResponse: Buffer.from(xml).toString('base64') })
      .expect(400);
    expect(res.body).toEqual({
      error: { code: 'SAML_DOCTYPE_FORBIDDEN', message: expect.any(String), hint: expect.any(String) },
    });
    expect(await denials()).toEqual(['SAML_DOCTYPE_FORBIDDEN']);
  });

  it('refuses an unsigned response without showing the library message, and audits it', async () => {
    const xml =
      '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"/>';
    const res = await json(request(app.getHttpServer()).post('/auth/saml/acme-saml/acs'))
      .type('form')
      .send({ SAMLResponse: Buffer.from(xml).toString('base64') })
      .expect(401);
    expect(res.body.error.code).toMatch(/^SAML_/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await denials()).toEqual([res.body.error.code]);
  });

  it('serves the SP metadata of the connection', async () => {
    const res = await request(app.getHttpServer()).get('/auth/saml/acme-saml/metadata').expect(200);
    expect(res.headers['content-type']).toMatch(/application\/samlmetadata\+xml/);
    expect(res.text).toContain('entityID="https://app.test/saml"');
    expect(res.text).toContain(`Location="${ACS}"`);
  });
});
