import './fixtures.js';
import { Controller, Get, Module, Post, UseGuards, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, MemoryStore, type JitLogger } from '@jit-sso/core';
import { CurrentUser, JitModule, JitSessionGuard } from '../src/index.js';
import { oidcConnection, options } from './fixtures.js';

@Controller()
class MeController {
  @Get('me')
  @UseGuards(JitSessionGuard)
  me(@CurrentUser('email') email: string) {
    return { email };
  }

  @Post('account')
  @UseGuards(JitSessionGuard)
  account() {
    return { ok: true };
  }
}

/** The store of an app whose migrations never ran. */
class MissingTablesStore extends MemoryStore {
  override findUserById(): never {
    throw Object.assign(new Error('SQLITE_ERROR: no such table: jit_users'), { code: 'SQLITE_ERROR' });
  }
}

function recorder() {
  const lines: Array<{ record: Record<string, unknown>; message: string }> = [];
  const logger: JitLogger = { error: (record, message) => void lines.push({ record, message }) };
  return { logger, lines, text: () => JSON.stringify(lines) };
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(jitModule: ReturnType<typeof JitModule.forRoot>, signedIn = false) {
  @Module({ imports: [jitModule], controllers: [MeController] })
  class AppModule {}
  const ref = await Test.createTestingModule({ imports: [AppModule as Type] }).compile();
  app = ref.createNestApplication({ logger: false });
  // A session that names a user id, as passport's deserializer leaves it.
  if (signedIn)
    app.use((req: { user?: unknown }, _res: unknown, next: () => void) => {
      req.user = { id: 'u1' };
      next();
    });
  await app.init();
  return app.getHttpServer();
}

describe('JitModule installs its exception filter', () => {
  it('answers an anonymous request to a guarded route with 401, without @UseFilters', async () => {
    const server = await start(JitModule.forRoot(options()));
    const res = await request(server).get('/me').set('Accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_ENDED');
  });

  it('does so when registered with forRootAsync too', async () => {
    const server = await start(JitModule.forRootAsync({ useFactory: () => options() }));
    expect((await request(server).get('/me').set('Accept', 'application/json')).status).toBe(401);
  });

  it('leaves refusals to the app with exceptionFilter: false', async () => {
    const server = await start(JitModule.forRoot({ ...options(), exceptionFilter: false }));
    const res = await request(server).get('/me').set('Accept', 'application/json');
    expect(res.status).toBe(500);
    expect(res.body.error).toBeUndefined();
  });

  it('logs a store failure with its cause and none of the secrets sent, and answers 503', async () => {
    const log = recorder();
    const server = await start(
      JitModule.forRoot({ ...options(), store: new MissingTablesStore(), logger: log.logger }),
      true,
    );
    const res = await request(server)
      .post('/account?code=query-code-secret')
      .set('Accept', 'application/json')
      .set('Authorization', 'Bearer bearer-token-secret')
      .type('form')
      .send({ SAMLResponse: 'PHNhbWxwOlJlc3BvbnNlPg', password: 'Sup3r-Secret-Passw0rd' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('STORE_FAILURE');
    expect(log.lines.map((l) => l.message)).toEqual([
      'POST /account answered 503 STORE_FAILURE: StoreError: The account store failed while checking a session.' +
        ' <- caused by Error: SQLITE_ERROR: no such table: jit_users',
    ]);
    for (const secret of [
      'query-code-secret',
      'bearer-token-secret',
      'PHNhbWxwOlJlc3BvbnNlPg',
      'Sup3r-Secret',
    ])
      expect(log.text()).not.toContain(secret);
  });

  it('logs nothing for a refusal', async () => {
    const log = recorder();
    const server = await start(JitModule.forRoot({ ...options(), logger: log.logger }));
    await request(server).get('/me').expect(401);
    expect(log.lines).toEqual([]);
  });
});

describe('JitModule checks every connection at boot', () => {
  it('refuses a SAML connection with a bad certificate, naming the connection and the field', async () => {
    const saml = {
      ...oidcConnection({ id: 'acme-saml', protocol: 'saml', issuer: 'https://idp.acme.test/saml' }),
      protocolOptions: {
        saml: {
          entryPoint: 'https://idp.acme.test/sso',
          idpCert: 'MIIC-not-a-certificate',
          spEntityId: 'https://app.test/saml',
          acsUrl: 'https://app.test/auth/saml/acme-saml/acs',
        },
      },
    };
    const boot = start(JitModule.forRoot({ ...options(), connections: [saml] }));
    await expect(boot).rejects.toBeInstanceOf(ConfigurationError);
    await expect(boot).rejects.toThrow(
      'Invalid connection "acme-saml": protocolOptions.saml.idpCert is not a PEM or base64 X.509 certificate.',
    );
  });
});
