// CommonJS: `tsc` turns these imports into require() calls.
import { readFileSync } from 'node:fs';
import { createDeliveryWorker, createProvisioner } from '@jit-sso/core';
import {
  admitLogins,
  adminRouter,
  createOidcStrategies,
  createSamlStrategy,
  jitErrorHandler,
  LoginAdmission,
  MemoryReplayCache,
  oidcAuthenticate,
  requireActiveUser,
  samlAuthenticate,
  SamlValidationPool,
  scimRouter,
  useJitSession,
} from '@jit-sso/express';
import { createAdminService, type AdminCaller } from '@jit-sso/protocol';
import { createScimService } from '@jit-sso/scim';
import {
  createJitDataSource,
  migrate,
  TypeormConfigurationStore,
  TypeormDirectoryStore,
} from '@jit-sso/typeorm';
/* eslint-disable @typescript-eslint/no-require-imports -- TypeScript's typed form of require(), as CommonJS apps write it */
import express = require('express');
import session = require('express-session');
/* eslint-enable @typescript-eslint/no-require-imports */
import { Passport } from 'passport';

async function main(): Promise<void> {
  const { tenants, connections } = JSON.parse(readFileSync('connections.json', 'utf8'));
  const dataSource = await createJitDataSource(process.env.DATABASE_URL ?? 'sqlite:jit.sqlite');
  await migrate(dataSource);
  const store = new TypeormDirectoryStore(dataSource);
  const provisioner = createProvisioner({ store, tenants, connections });
  // Lifecycle events from the store's outbox as signed webhooks; `development` lets a local receiver in.
  const worker =
    process.env.DELIVER_WEBHOOKS === '1'
      ? createDeliveryWorker({ store, mode: 'development', pollMs: 100 })
      : null;
  worker?.start();
  const passport = new Passport();
  useJitSession(passport, provisioner);
  // SAML responses validated on worker threads (the CommonJS build's worker).
  const samlValidationPool = new SamlValidationPool({ threads: 1 });
  passport.use(createSamlStrategy({ provisioner, replayCache: new MemoryReplayCache(), samlValidationPool }));

  // Self-serve onboarding: a tenant's administrator manages its connections in the stored configuration.
  const admin = createAdminService({
    configuration: new TypeormConfigurationStore(dataSource),
    publicUrl: process.env.APP_URL!,
    audit: store, // refusals (another tenant's connection) are audited as `denied`
  });

  const app = express();
  app.use(
    '/scim/v2',
    scimRouter(createScimService({ store, provisioner, baseUrl: `${process.env.APP_URL}/scim/v2` })),
  );
  app.use(session({ secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false }));
  app.use(passport.initialize(), passport.session(), express.urlencoded({ extended: false }));
  const saml = samlAuthenticate(passport, { provisioner });
  app.get('/auth/saml/:connection/login', saml);
  // At most four SAML responses handled at once; a full line of 256 answers 503 with Retry-After.
  const admission = new LoginAdmission({ limit: 4 });
  app.post('/auth/saml/:connection/acs', admitLogins(admission), saml, (_req, res) => res.redirect('/'));
  const oidc = oidcAuthenticate(passport, createOidcStrategies({ provisioner }), { provisioner });
  app.get('/auth/oidc/:connection/login', oidc);
  app.get('/auth/oidc/:connection/callback', oidc, (_req, res) => res.redirect('/'));
  // A real app takes the caller from its session (an administrator of one tenant); this test app
  // trusts two request headers, and only when started with TRUST_ADMIN_HEADERS=1.
  const adminCaller = (req: express.Request): AdminCaller | null => {
    const actor = req.get('x-admin-actor');
    const tenantId = req.get('x-admin-tenant');
    return process.env.TRUST_ADMIN_HEADERS === '1' && actor && tenantId ? { actor, tenantId } : null;
  };
  app.use('/admin/api', adminRouter(admin, { caller: adminCaller }));
  app.get('/me', requireActiveUser(provisioner), (req, res) => res.json(req.user));
  app.get('/', (_req, res) => res.send('Signed in.'));
  app.use(jitErrorHandler());

  const server = app.listen(Number(process.env.PORT ?? 3000), () =>
    console.log(`listening on ${process.env.PORT}`),
  );
  process.on('SIGTERM', () =>
    server.close(async () => {
      await worker?.stop();
      await Promise.all([samlValidationPool.close(), dataSource.destroy()]);
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
