import { createServer } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import session from 'koa-session';
import koaPassport from 'koa-passport';
import type { ProvisioningResult, UserRecord } from '@jit-sso/core';
import {
  createOidcStrategies,
  createSamlStrategy,
  jitErrorHandler,
  oidcAuthenticate,
  requireActiveUser,
  roleNames,
  admitLogins,
  samlAuthenticate,
  samlMetadata,
  adminMiddleware,
  scimMiddleware,
  useJitSession,
  type JitState,
} from '@jit-sso/koa';
import type { AdapterApp, AppEnvironment } from '../harness.js';
import { adminCallerOf } from '../environment.js';

/** Server-side session data (the cookie holds only the session id), so that logout ends a session for good. */
function memorySessionStore() {
  const sessions = new Map<string, unknown>();
  return {
    get: async (key: string) => sessions.get(key),
    set: async (key: string, value: unknown) => void sessions.set(key, value),
    destroy: async (key: string) => void sessions.delete(key),
  };
}

/** The suite's app, built the way a Koa user builds it with `@jit-sso/koa`. */
export async function buildKoaApp(env: AppEnvironment): Promise<AdapterApp> {
  const { provisioner } = env;
  const passport = new koaPassport.KoaPassport();
  useJitSession(passport, provisioner);
  const saml = createSamlStrategy({
    provisioner,
    replayCache: env.replayCache,
    ...(env.samlValidationPool ? { samlValidationPool: env.samlValidationPool } : {}),
  });
  passport.use(saml);
  const oidc = createOidcStrategies({ provisioner });

  const app = new Koa<JitState>();
  app.keys = [env.sessionSecret];
  app.silent = true;
  app.use(jitErrorHandler());
  app.use(
    session({ key: 'sid', httpOnly: true, sameSite: 'lax', signed: true, store: memorySessionStore() }, app),
  );
  // Before the body parser, which would answer malformed SCIM JSON with its own error.
  app.use(scimMiddleware(env.scim));
  app.use(bodyParser());
  if (env.admin) app.use(adminMiddleware(env.admin, { caller: (ctx) => adminCallerOf(ctx.headers) }));
  app.use(passport.initialize());
  app.use(passport.session());

  const router = new Router<JitState>();
  const signedIn: Koa.Middleware<JitState> = (ctx) => {
    const test = (ctx.state as { jitTestResult?: ProvisioningResult }).jitTestResult;
    // A test sign-in: the decision, and no session.
    if (test) {
      ctx.body = { test: true, action: test.action, roles: test.roles };
      return;
    }
    ctx.status = 303;
    ctx.redirect('/');
  };
  router.get('/auth/saml/:connection/login', samlAuthenticate(passport, { provisioner }));
  router.post(
    '/auth/saml/:connection/acs',
    ...(env.loginAdmission ? [admitLogins(env.loginAdmission)] : []),
    samlAuthenticate(passport, { provisioner }),
    signedIn,
  );
  router.get('/auth/saml/:connection/metadata', samlMetadata(saml, { provisioner }));
  router.get('/auth/oidc/:connection/login', oidcAuthenticate(passport, oidc, { provisioner }));
  router.get('/auth/oidc/:connection/callback', oidcAuthenticate(passport, oidc, { provisioner }), signedIn);
  router.get('/me', requireActiveUser(provisioner), (ctx) => {
    const user = ctx.state.user as UserRecord;
    ctx.body = { user, roles: roleNames(user) };
  });
  router.post('/logout', async (ctx) => {
    await ctx.logout();
    ctx.session = null;
    ctx.status = 204;
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(env.port, '127.0.0.1', resolve));
  return {
    baseUrl: env.baseUrl,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
