import { readFileSync } from 'node:fs';
import Router from '@koa/router';
import { createProvisioner, type UserRecord } from '@jit-sso/core';
import {
  createOidcStrategies,
  createSamlStrategy,
  jitErrorHandler,
  oidcAuthenticate,
  requireActiveUser,
  samlAuthenticate,
  scimMiddleware,
  useJitSession,
  type JitState,
} from '@jit-sso/koa';
import { MemoryReplayCache, SamlValidationPool } from '@jit-sso/protocol';
import { createScimService } from '@jit-sso/scim';
import { createJitDataSource, migrate, TypeormDirectoryStore } from '@jit-sso/typeorm';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import koaPassport from 'koa-passport';
import session from 'koa-session';

const { tenants, connections } = JSON.parse(readFileSync('connections.json', 'utf8'));
const dataSource = await createJitDataSource(process.env.DATABASE_URL ?? 'sqlite:jit.sqlite');
await migrate(dataSource);
const store = new TypeormDirectoryStore(dataSource);
const provisioner = createProvisioner({ store, tenants, connections });

const passport = new koaPassport.KoaPassport();
useJitSession(passport, provisioner);
// SAML responses validated on worker threads (the ES module build's worker).
const samlValidationPool = new SamlValidationPool({ threads: 1 });
passport.use(createSamlStrategy({ provisioner, replayCache: new MemoryReplayCache(), samlValidationPool }));
const oidc = createOidcStrategies({ provisioner });

const app = new Koa<JitState>();
app.keys = [process.env.SESSION_SECRET!];
app.use(jitErrorHandler());
app.use(session({ signed: true, sameSite: 'lax' }, app));
app.use(scimMiddleware(createScimService({ store, provisioner, baseUrl: `${process.env.APP_URL}/scim/v2` })));
app.use(bodyParser()).use(passport.initialize()).use(passport.session());

const router = new Router<JitState>();
const home: Koa.Middleware = (ctx) => ctx.redirect('/');
router.get('/', (ctx) => (ctx.body = 'Signed in.'));
router.get('/auth/saml/:connection/login', samlAuthenticate(passport, { provisioner }));
router.post('/auth/saml/:connection/acs', samlAuthenticate(passport, { provisioner }), home);
router.get('/auth/oidc/:connection/login', oidcAuthenticate(passport, oidc, { provisioner }));
router.get('/auth/oidc/:connection/callback', oidcAuthenticate(passport, oidc, { provisioner }), home);
router.get('/me', requireActiveUser(provisioner), (ctx) => (ctx.body = ctx.state.user as UserRecord));
app.use(router.routes()).use(router.allowedMethods());

const server = app.listen(Number(process.env.PORT ?? 3000), () =>
  console.log(`listening on ${process.env.PORT}`),
);
process.on('SIGTERM', () =>
  server.close(() => void Promise.all([samlValidationPool.close(), dataSource.destroy()])),
);
