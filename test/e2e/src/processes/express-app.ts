// The suite's Express app (its SAML ACS) as its own process, run with tsx and configured by the JSON in
// JIT_E2E_APP (see `AppProcessConfig`). It prints `listening on <port>` once it serves.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { Redis } from 'ioredis';
import { createProvisioner, type ConnectionInput } from '@jit-sso/core';
import {
  createSamlStrategy,
  jitErrorHandler,
  MemoryReplayCache,
  RedisReplayCache,
  samlAuthenticate,
  useJitSession,
} from '@jit-sso/express';
import { createJitDataSource, TypeormStore } from '@jit-sso/typeorm';

export interface AppProcessConfig {
  /** One app per database (already migrated), served under `/<index>`: app `i` on `databaseUrls[i]`. */
  databaseUrls: string[];
  connections: ConnectionInput[];
  /** The replay cache every copy shares: Redis, with the key prefix `<redisPrefix><index>:`. */
  redisUrl: string;
  redisPrefix: string;
  /** Connections whose replay cache is this process's memory, as if each copy had its own. */
  ownCacheConnections: string[];
  sessionSecret: string;
}

const config = JSON.parse(process.env['JIT_E2E_APP'] ?? '') as AppProcessConfig;
const redis = new Redis(config.redisUrl);
redis.on('error', (error: Error) => console.error(`redis: ${error.message}`));
const dataSources = await Promise.all(config.databaseUrls.map((url) => createJitDataSource(url)));

/** The ACS of the suite's Express app on one database. */
function acsRouter(dataSource: (typeof dataSources)[number], index: number): express.Router {
  const provisioner = createProvisioner({
    store: new TypeormStore(dataSource),
    connections: config.connections,
  });
  const passport = new Passport();
  useJitSession(passport, provisioner);
  const shared = new RedisReplayCache(redis, `${config.redisPrefix}${index}:`);
  passport.use('saml', createSamlStrategy({ provisioner, replayCache: shared }));
  passport.use('saml-own-cache', createSamlStrategy({ provisioner, replayCache: new MemoryReplayCache() }));
  const sharedCache = samlAuthenticate(passport, { provisioner });
  const ownCache = samlAuthenticate(passport, { provisioner, strategy: 'saml-own-cache' });
  const router = express.Router();
  router.use(passport.initialize(), passport.session());
  router.post(
    '/auth/saml/:connection/acs',
    express.urlencoded({ extended: false }),
    (req, res, next) =>
      (config.ownCacheConnections.includes(req.params['connection']!) ? ownCache : sharedCache)(
        req,
        res,
        next,
      ),
    (_req, res) => res.redirect(303, '/'),
  );
  return router;
}

const app = express();
app.use(session({ secret: config.sessionSecret, resave: false, saveUninitialized: false }));
dataSources.forEach((dataSource, index) => app.use(`/${index}`, acsRouter(dataSource, index)));
app.use(jitErrorHandler());

const server = createServer(app);
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  redis.disconnect();
  void Promise.allSettled(dataSources.map((d) => d.destroy())).finally(() => process.exit(0));
});
