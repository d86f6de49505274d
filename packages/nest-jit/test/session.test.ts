import './fixtures.js';
import { Controller, Get, HttpCode, Module, Param, Post, Req, UseFilters, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import session from 'express-session';
import passport from 'passport';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, type UserRecord } from '@jit-sso/core';
import {
  CurrentUser,
  JitExceptionFilter,
  JitModule,
  JitService,
  JitSessionGuard,
  roleNames,
} from '../src/index.js';
import { annLogin, ISSUER, oidcConnection } from './fixtures.js';

interface LoginRequest {
  logIn(user: UserRecord, done: (error?: unknown) => void): void;
}

/** Signs in through the engine directly, as a strategy's validate() would after the protocol checks. */
@Controller()
@UseFilters(JitExceptionFilter)
class TestController {
  constructor(private readonly jit: JitService) {}

  @Post('login/:issuer')
  @HttpCode(204)
  async login(@Param('issuer') issuer: string, @Req() req: LoginRequest): Promise<void> {
    const profile = annLogin(issuer === 'acme' ? {} : { iss: `https://${issuer}.test` });
    const result = await this.jit.provision({ connectionId: 'acme-oidc', profile });
    await new Promise<void>((resolve, reject) =>
      req.logIn(result.user, (error) => (error ? reject(error) : resolve())),
    );
  }

  @Get('me')
  @UseGuards(JitSessionGuard)
  me(@CurrentUser() user: UserRecord, @CurrentUser('email') email: string) {
    return { id: user.id, email, roles: roleNames(user) };
  }

  @Get('plain')
  plain(@CurrentUser() user: UserRecord | null) {
    return { user };
  }
}

@Module({
  imports: [JitModule.forRoot({ store: new MemoryStore(), connections: [oidcConnection()], isGlobal: true })],
  controllers: [TestController],
})
class AppModule {}

describe('JitSessionGuard, @CurrentUser() and JitExceptionFilter in an app', () => {
  let app: INestApplication;
  let jit: JitService;

  beforeEach(async () => {
    app = await NestFactory.create(AppModule, { logger: false });
    app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false }));
    app.use(passport.initialize());
    app.use(passport.session());
    await app.init();
    jit = app.get(JitService);
  });
  afterEach(() => app.close());

  it('refuses a request without a session with SESSION_ENDED', async () => {
    const res = await request(app.getHttpServer()).get('/me').set('Accept', 'application/json').expect(401);
    expect(res.body).toEqual({
      error: expect.objectContaining({
        code: 'SESSION_ENDED',
        message: expect.any(String),
        hint: 'Sign in again.',
      }),
    });
  });

  it('admits the signed-in user and gives the controller the current record', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login/acme').expect(204);
    const res = await agent.get('/me').expect(200);
    expect(res.body).toMatchObject({ email: 'ann@acme.test', roles: ['member'] });
  });

  it('ends the session of a user deactivated after signing in, at the next request', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login/acme').expect(204);
    const { body } = await agent.get('/me').expect(200);

    await jit.deactivateUser(body.id, { actor: 'scim' });
    const refused = await agent.get('/me').set('Accept', 'application/json').expect(401);
    expect(refused.body.error.code).toBe('SESSION_ENDED');

    // The session itself is gone: reactivating the account does not revive it.
    await jit.reactivateUser(body.id);
    expect((await agent.get('/me').set('Accept', 'application/json').expect(401)).body.error.code).toBe(
      'SESSION_ENDED',
    );
  });

  it('sees a role change made after sign-in, because the user is read at each request', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login/acme').expect(204);
    const { body } = await agent.get('/me').expect(200);
    await jit.store.transaction((tx) =>
      tx.updateUser(body.id, { roles: [{ role: 'admin', source: 'manual' }], updatedAt: new Date() }),
    );
    expect((await agent.get('/me').expect(200)).body.roles).toEqual(['admin']);
  });

  it('answers a refused login with the error code, status and hint, and nothing internal', async () => {
    const res = await request(app.getHttpServer())
      .post('/login/evil')
      .set('Accept', 'application/json')
      .expect(401);
    expect(res.body).toEqual({
      error: {
        code: 'ISSUER_MISMATCH',
        message: `The login was issued by "https://evil.test", but the connection expects "${ISSUER}".`,
        hint: "Set the connection's issuer to the identity provider's entity id / issuer URL.",
      },
    });
    expect(JSON.stringify(res.body)).not.toMatch(/stack|cause/);
  });

  it('answers a browser with an HTML page that escapes the message, never cached', async () => {
    const res = await request(app.getHttpServer()).post('/login/evil').set('Accept', 'text/html').expect(401);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<code>ISSUER_MISMATCH</code>');
    expect(res.text).toContain('&quot;https://evil.test&quot;');
    expect(res.text).not.toContain('"https://evil.test"');
  });

  it('drops a deactivated user from the session on unguarded routes too', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login/acme').expect(204);
    const { body } = await agent.get('/me').expect(200);
    expect((await agent.get('/plain').expect(200)).body.user).toMatchObject({ id: body.id });
    await jit.deactivateUser(body.id);
    expect((await agent.get('/plain').expect(200)).body).toEqual({ user: null });
    await jit.reactivateUser(body.id);
    expect((await agent.get('/plain').expect(200)).body).toEqual({ user: null });
  });

  it('leaves @CurrentUser() null on an unguarded route without a session', async () => {
    expect((await request(app.getHttpServer()).get('/plain').expect(200)).body).toEqual({ user: null });
  });
});
