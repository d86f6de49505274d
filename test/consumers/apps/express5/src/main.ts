import { readFileSync } from 'node:fs';
import { createProvisioner } from '@jit-sso/core';
import {
  createOidcStrategies,
  createSamlStrategy,
  jitErrorHandler,
  MemoryReplayCache,
  oidcAuthenticate,
  requireActiveUser,
  samlAuthenticate,
  scimRouter,
  useJitSession,
} from '@jit-sso/express';
import { createScimService } from '@jit-sso/scim';
import { createJitDataSource, migrate, TypeormDirectoryStore } from '@jit-sso/typeorm';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';

const app = express();
const secret = process.env.SESSION_SECRET!;
const { tenants, connections } = JSON.parse(readFileSync('connections.json', 'utf8'));

// #region readme
const dataSource = await createJitDataSource(process.env.DATABASE_URL ?? 'sqlite:jit.sqlite');
await migrate(dataSource);
const store = new TypeormDirectoryStore(dataSource);
const provisioner = createProvisioner({ store, tenants, connections }); // connections: see @jit-sso/core
const passport = new Passport();
useJitSession(passport, provisioner);
passport.use(createSamlStrategy({ provisioner, replayCache: new MemoryReplayCache() })); // or RedisReplayCache
app.use(session({ secret, resave: false, saveUninitialized: false }));
app.use(passport.initialize(), passport.session(), express.urlencoded({ extended: false }));
const saml = samlAuthenticate(passport, { provisioner });
app.get('/auth/saml/:connection/login', saml);
app.post('/auth/saml/:connection/acs', saml, (_req, res) => res.redirect('/'));
const oidc = oidcAuthenticate(passport, createOidcStrategies({ provisioner }), { provisioner });
app.get('/auth/oidc/:connection/login', oidc);
app.get('/auth/oidc/:connection/callback', oidc, (_req, res) => res.redirect('/'));
app.get('/me', requireActiveUser(provisioner), (req, res) => res.json(req.user));
app.use(jitErrorHandler());
// #endregion

app.get('/', (_req, res) => res.send('Signed in.'));
app.use(
  '/scim/v2',
  scimRouter(createScimService({ store, provisioner, baseUrl: `${process.env.APP_URL}/scim/v2` })),
);

const server = app.listen(Number(process.env.PORT ?? 3000), () =>
  console.log(`listening on ${process.env.PORT}`),
);
process.on('SIGTERM', () => server.close(() => void dataSource.destroy()));
