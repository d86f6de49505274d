import Koa from 'koa';
import Router from '@koa/router';
import session from 'koa-session';
import koaPassport from 'koa-passport';
import request from 'supertest';
import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createProvisioner,
  fromOidcClaims,
  JitError,
  MemoryStore,
  type JitLogger,
  type Provisioner,
  type UserRecord,
} from '@jit-sso/core';
import { jitErrorHandler, requireActiveUser, roleNames, useJitSession, type JitState } from '../src/index.js';

const ISSUER = 'https://idp.acme.test';

function buildApp(jit: Provisioner): Koa<JitState> {
  const passport = new koaPassport.KoaPassport();
  useJitSession(passport, jit);
  const app = new Koa<JitState>();
  app.keys = ['test-key'];
  app.silent = true;
  app.use(jitErrorHandler());
  app.use(session({}, app));
  app.use(passport.initialize());
  app.use(passport.session());

  const router = new Router<JitState>();
  // Signs in through the engine directly, as a strategy's verify would after the protocol checks.
  router.post('/login/:issuer', async (ctx) => {
    const iss = ctx.params['issuer'] === 'acme' ? ISSUER : `https://${ctx.params['issuer']}.test`;
    const profile = fromOidcClaims({ iss, sub: 'ann-sub', email: 'ann@acme.test', email_verified: true });
    const result = await jit.provision({ connectionId: 'acme-oidc', profile });
    await ctx.login(result.user);
    ctx.status = 204;
  });
  router.get('/me', requireActiveUser(jit), (ctx) => {
    const user = ctx.state.user as UserRecord;
    ctx.body = { id: user.id, email: user.email, roles: roleNames(user) };
  });
  router.get('/public', (ctx) => {
    ctx.body = { signedIn: Boolean(ctx.state.user) };
  });
  router.get('/boom', () => {
    throw new Error('not a JitError');
  });
  app.use(router.routes());
  return app;
}

describe('Koa session and error middleware', () => {
  let jit: Provisioner;
  let server: Server;

  beforeEach(() => {
    jit = createProvisioner({
      store: new MemoryStore(),
      connections: [
        {
          id: 'acme-oidc',
          tenantId: 'acme',
          protocol: 'oidc',
          issuer: ISSUER,
          jit: { verifiedDomains: ['acme.test'], defaultRoles: ['member'] },
        },
      ],
    });
    server = buildApp(jit).listen(0);
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses a guarded route without a session with SESSION_ENDED', async () => {
    const res = await request(server).get('/me').set('Accept', 'application/json').expect(401);
    expect(res.body).toEqual({
      error: expect.objectContaining({ code: 'SESSION_ENDED', hint: 'Sign in again.' }),
    });
  });

  it('lets requests without a session through to unguarded routes', async () => {
    expect((await request(server).get('/public').expect(200)).body).toEqual({ signedIn: false });
  });

  it('admits the signed-in user with the current record', async () => {
    const agent = request.agent(server);
    await agent.post('/login/acme').expect(204);
    expect((await agent.get('/me').expect(200)).body).toMatchObject({
      email: 'ann@acme.test',
      roles: ['member'],
    });
  });

  it('ends the session of a user deactivated after signing in, at the next request', async () => {
    const agent = request.agent(server);
    await agent.post('/login/acme').expect(204);
    const { body } = await agent.get('/me').expect(200);

    await jit.deactivateUser(body.id, { actor: 'scim' });
    const refused = await agent.get('/me').set('Accept', 'application/json').expect(401);
    expect(refused.body.error.code).toBe('SESSION_ENDED');

    // The session no longer names the user: reactivating the account does not revive it.
    await jit.reactivateUser(body.id);
    expect((await agent.get('/public').expect(200)).body).toEqual({ signedIn: false });
    expect((await agent.get('/me').set('Accept', 'application/json').expect(401)).body.error.code).toBe(
      'SESSION_ENDED',
    );
  });

  it('drops a deactivated user from the session on unguarded routes too', async () => {
    const agent = request.agent(server);
    await agent.post('/login/acme').expect(204);
    const { body } = await agent.get('/me').expect(200);
    expect((await agent.get('/public').expect(200)).body).toEqual({ signedIn: true });
    await jit.deactivateUser(body.id);
    expect((await agent.get('/public').expect(200)).body).toEqual({ signedIn: false });
    await jit.reactivateUser(body.id);
    expect((await agent.get('/public').expect(200)).body).toEqual({ signedIn: false });
  });

  it('answers a browser with an HTML page that escapes the message', async () => {
    const res = await request(server).post('/login/evil').set('Accept', 'text/html').expect(401);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<code>ISSUER_MISMATCH</code>');
    expect(res.text).toContain('&quot;https://evil.test&quot;');
    expect(res.text).not.toContain('"https://evil.test"');
  });

  it('sees a role change made after sign-in', async () => {
    const agent = request.agent(server);
    await agent.post('/login/acme').expect(204);
    const { body } = await agent.get('/me').expect(200);
    await jit.store.transaction((tx) =>
      tx.updateUser(body.id, { roles: [{ role: 'admin', source: 'manual' }], updatedAt: new Date() }),
    );
    expect((await agent.get('/me').expect(200)).body.roles).toEqual(['admin']);
  });

  it('answers a refused login with the code, status and hint, and nothing internal', async () => {
    const res = await request(server).post('/login/evil').set('Accept', 'application/json').expect(401);
    expect(res.body).toEqual({
      error: {
        code: 'ISSUER_MISMATCH',
        message: `The login was issued by "https://evil.test", but the connection expects "${ISSUER}".`,
        hint: "Set the connection's issuer to the identity provider's entity id / issuer URL.",
      },
    });
    expect(JSON.stringify(res.body)).not.toMatch(/stack|cause/);
  });

  it('leaves errors that are not JitErrors to Koa', async () => {
    const res = await request(server).get('/boom').expect(500);
    expect(res.body).toEqual({});
  });

  it('answers a store failure with 503 STORE_FAILURE, logs it with its cause and reports it', async () => {
    const seen: JitError[] = [];
    const lines: Array<{ record: Record<string, unknown>; message: string }> = [];
    const logger: JitLogger = { error: (record, message) => void lines.push({ record, message }) };
    const driver = new Error('SQLITE_ERROR: no such table: jit_users');
    const failing: Provisioner = {
      ...jit,
      getActiveUser: () =>
        Promise.reject(new JitError('STORE_FAILURE', 'The account store failed.', { cause: driver })),
    };
    const app = new Koa();
    app.use(jitErrorHandler({ logger, onServerError: (error) => seen.push(error) }));
    app.use(async (ctx, next) => {
      ctx.state.user = { id: 'u1' } as UserRecord;
      await next();
    });
    app.use(requireActiveUser(failing));
    const res = await request(app.callback())
      .post('/account?code=query-code-secret')
      .set('Accept', 'application/json')
      .set('Authorization', 'Bearer bearer-token-secret')
      .type('form')
      .send({ SAMLResponse: 'PHNhbWxwOlJlc3BvbnNlPg', password: 'Sup3r-Secret-Passw0rd' })
      .expect(503);
    expect(res.body.error.code).toBe('STORE_FAILURE');
    expect(seen.map((e) => e.code)).toEqual(['STORE_FAILURE']);
    expect(lines.map((l) => l.message)).toEqual([
      'POST /account answered 503 STORE_FAILURE: JitError: The account store failed.' +
        ' <- caused by Error: SQLITE_ERROR: no such table: jit_users',
    ]);
    const logged = JSON.stringify(lines);
    for (const secret of [
      'query-code-secret',
      'bearer-token-secret',
      'PHNhbWxwOlJlc3BvbnNlPg',
      'Sup3r-Secret',
    ])
      expect(logged).not.toContain(secret);
  });

  it('logs nothing for a refusal (401)', async () => {
    const lines: string[] = [];
    const app = new Koa();
    app.use(jitErrorHandler({ logger: { error: (_record, message) => void lines.push(message) } }));
    app.use(requireActiveUser(jit));
    await request(app.callback()).get('/').set('Accept', 'application/json').expect(401);
    expect(lines).toEqual([]);
  });
});
