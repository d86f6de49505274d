import { createServer, type AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvisioner } from '@jit-sso/core';
import { createSamlStrategy, jitErrorHandler, samlAuthenticate, useJitSession } from '@jit-sso/express';
import { RedisReplayCache } from '@jit-sso/protocol';
import { createE2eEnvironment, type E2eEnvironment } from '../src/environment.js';

/** A port on which nothing listens: a Redis that is down. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

// An Express app as the README builds it (`new Redis()` with ioredis's defaults: offline queue and
// retries), whose Redis is down: a login fails closed and fast, and the log says why.
describe('a login while the replay cache (Redis) is down', () => {
  let env: E2eEnvironment;
  let redis: Redis;
  const lines: string[] = [];
  let app: express.Express;

  beforeAll(async () => {
    env = await createE2eEnvironment();
    redis = new Redis({ host: '127.0.0.1', port: await closedPort() });
    redis.on('error', () => undefined);
    const provisioner = createProvisioner({ store: env.store, connections: [...env.connections] });
    const passport = new Passport();
    useJitSession(passport, provisioner);
    passport.use(createSamlStrategy({ provisioner, replayCache: new RedisReplayCache(redis) }));
    app = express();
    app.use(session({ secret: env.sessionSecret, resave: false, saveUninitialized: false }));
    app.use(passport.initialize(), passport.session());
    app.get('/auth/saml/:connection/login', samlAuthenticate(passport, { provisioner }));
    app.use(jitErrorHandler({ logger: { error: (_record, line) => void lines.push(line) } }));
  });
  afterAll(async () => {
    redis?.disconnect();
    await env?.close();
  });

  it('answers 503 in under a second, every time, and logs the cause', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = Date.now();
      const answer = await request(app).get('/auth/saml/acme-saml/login').set('Accept', 'application/json');
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ error: { code: 'STORE_FAILURE' } });
      expect(Date.now() - started).toBeLessThan(1000);
    }
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/GET \/auth\/saml\/acme-saml\/login answered 503 STORE_FAILURE/);
    expect(lines[0]).toMatch(/replay cache \(Redis\) did not answer/);
  });
});
