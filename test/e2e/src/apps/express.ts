import { createServer } from 'node:http';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import type { UserRecord } from '@jit-sso/core';
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
  adminRouter,
  scimRouter,
  useJitSession,
} from '@jit-sso/express';
import type { AdapterApp, AppEnvironment } from '../harness.js';
import { adminCallerOf } from '../environment.js';

/** The suite's app, built the way an Express user builds it with `@jit-sso/express`. */
export async function buildExpressApp(env: AppEnvironment): Promise<AdapterApp> {
  const { provisioner } = env;
  const passport = new Passport();
  useJitSession(passport, provisioner);
  const saml = createSamlStrategy({
    provisioner,
    replayCache: env.replayCache,
    ...(env.samlValidationPool ? { samlValidationPool: env.samlValidationPool } : {}),
  });
  passport.use(saml);
  const oidc = createOidcStrategies({ provisioner });

  const app = express();
  app.use('/scim/v2', scimRouter(env.scim));
  if (env.admin) {
    app.use('/admin/api', adminRouter(env.admin, { caller: (req) => adminCallerOf(req.headers) }));
  }
  app.use(
    session({
      name: 'sid',
      secret: env.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.use(passport.initialize());
  app.use(passport.session());

  const signedIn: express.RequestHandler = (_req, res) => {
    const test = res.locals.jitTestResult;
    // A test sign-in: the decision, and no session.
    if (test) return void res.json({ test: true, action: test.action, roles: test.roles });
    res.redirect(303, '/');
  };
  app.get('/auth/saml/:connection/login', samlAuthenticate(passport, { provisioner }));
  app.post(
    '/auth/saml/:connection/acs',
    ...(env.loginAdmission ? [admitLogins(env.loginAdmission)] : []),
    express.urlencoded({ extended: false }),
    samlAuthenticate(passport, { provisioner }),
    signedIn,
  );
  app.get('/auth/saml/:connection/metadata', samlMetadata(saml, { provisioner }));
  app.get('/auth/oidc/:connection/login', oidcAuthenticate(passport, oidc, { provisioner }));
  app.get('/auth/oidc/:connection/callback', oidcAuthenticate(passport, oidc, { provisioner }), signedIn);
  app.get('/me', requireActiveUser(provisioner), (req, res) => {
    const user = req.user as UserRecord;
    res.json({ user, roles: roleNames(user) });
  });
  app.post('/logout', (req, res, next) => {
    req.logout((error) => {
      if (error) return next(error);
      req.session.destroy(() => res.status(204).end());
    });
  });
  app.use(jitErrorHandler());

  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(env.port, '127.0.0.1', resolve));
  return {
    baseUrl: env.baseUrl,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
