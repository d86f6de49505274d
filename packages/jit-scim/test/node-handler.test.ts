import 'reflect-metadata';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import express from 'express';
import Koa from 'koa';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MemoryDirectoryStore, StoreError, type JitLogger } from '@jit-sso/core';
import {
  createDirectory,
  createScimNodeHandler,
  createScimService,
  issueDirectoryToken,
  type ScimService,
} from '../src/index.js';
import { BASE, user } from './helpers.js';

function recorder() {
  const lines: Array<{ record: Record<string, unknown>; message: string }> = [];
  const logger: JitLogger = { error: (record, message) => void lines.push({ record, message }) };
  return { logger, lines, text: () => JSON.stringify(lines) };
}

/** A directory whose token lookups work and whose writes fail the way a database without its tables does. */
async function failingSetup(failure: (driver: Error) => unknown) {
  const store = new MemoryDirectoryStore();
  const directory = await createDirectory(store, { tenantId: 'acme' });
  const { token } = await issueDirectoryToken(store, directory.id);
  const driver = Object.assign(new Error('SQLITE_ERROR: no such table: jit_scim_resources'), {
    code: 'SQLITE_ERROR',
  });
  store.directoryTransaction = async () => {
    throw failure(driver);
  };
  const log = recorder();
  const service = createScimService({ store, baseUrl: BASE, logger: log.logger });
  return { token, service, log };
}

async function setup() {
  const store = new MemoryDirectoryStore();
  const directory = await createDirectory(store, { tenantId: 'acme' });
  const { token } = await issueDirectoryToken(store, directory.id);
  const service = createScimService({ store, baseUrl: BASE });
  return { token, service };
}

/** The same conversation against any server: create, read with ETag, 304, filter, PATCH, errors. */
async function converse(server: Parameters<typeof request>[0], token: string, prefix = '/scim/v2') {
  const auth = { Authorization: `Bearer ${token}` };
  const created = await request(server)
    .post(`${prefix}/Users`)
    .set(auth)
    .set('Content-Type', 'application/scim+json')
    .send(JSON.stringify(user('ann')));
  expect(created.status).toBe(201);
  expect(created.headers['content-type']).toBe('application/scim+json; charset=utf-8');
  expect(created.headers['location']).toBe(`${BASE}/Users/${created.body.id}`);
  const etag = String(created.headers['etag']);
  const again = await request(server)
    .get(`${prefix}/Users/${created.body.id}`)
    .set(auth)
    .set('If-None-Match', etag);
  expect(again.status).toBe(304);
  const found = await request(server).get(`${prefix}/Users`).query({ filter: 'userName eq "ann"' }).set(auth);
  expect(found.body.totalResults).toBe(1);
  const patched = await request(server)
    .patch(`${prefix}/Users/${created.body.id}`)
    .set(auth)
    .set('Content-Type', 'application/json')
    .send({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
  expect(patched.status).toBe(204);
  const garbage = await request(server)
    .post(`${prefix}/Users`)
    .set(auth)
    .set('Content-Type', 'application/json')
    .send('{"userName": tre');
  expect(garbage.status).toBe(400);
  expect(JSON.parse(garbage.text)).toMatchObject({ scimType: 'invalidSyntax' });
  const anonymous = await request(server).get(`${prefix}/Users`);
  expect(anonymous.status).toBe(401);
  const discovery = await request(server).get(`${prefix}/ServiceProviderConfig`);
  expect(discovery.status).toBe(200);
}

describe('createScimNodeHandler', () => {
  it("works mounted in Express, before the app's body parser or after it", async () => {
    const { token, service } = await setup();
    const app = express();
    app.use('/scim/v2', createScimNodeHandler(service));
    app.use(express.json());
    await converse(app, token);
    // After express.json(), well-formed bodies arrive parsed (malformed ones get Express's own 400).
    const parsed = express();
    parsed.use(express.json({ type: ['application/json', 'application/scim+json'] }));
    parsed.use('/scim/v2', createScimNodeHandler(service));
    const res = await request(parsed)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .send(user('bob'));
    expect(res.status).toBe(201);
    expect(
      (await request(parsed).get('/scim/v2/Users').set('Authorization', `Bearer ${token}`)).body.totalResults,
    ).toBe(2);
  });

  it('works in Koa through ctx.req and ctx.res', async () => {
    const { token, service } = await setup();
    const handler = createScimNodeHandler(service, { mountPath: '/scim/v2' });
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (ctx.path !== '/scim/v2' && !ctx.path.startsWith('/scim/v2/')) return next();
      ctx.respond = false;
      await handler(ctx.req, ctx.res);
    });
    await converse(app.callback(), token);
  });

  it('works in NestJS on its Express instance', async () => {
    const { token, service } = await setup();
    class AppModule {}
    Module({})(AppModule);
    const app = await NestFactory.create(AppModule, { logger: false });
    app.use('/scim/v2', createScimNodeHandler(service));
    await app.init();
    try {
      await converse(app.getHttpServer(), token);
    } finally {
      await app.close();
    }
  });

  it('works on node:http with a mount path', async () => {
    const { token, service } = await setup();
    const handler = createScimNodeHandler(service, { mountPath: '/scim/v2' });
    await converse(
      createServer((req, res) => void handler(req, res)),
      token,
    );
  });

  it('answers 503 with Retry-After until a service given as a promise is ready, then serves it', async () => {
    const { token, service } = await setup();
    let start!: (service: ScimService) => void;
    const handler = createScimNodeHandler(new Promise((resolve) => (start = resolve)), {
      retryAfterSeconds: 7,
    });
    const server = createServer((req, res) => void handler(req, res));
    const early = await request(server).get('/Users').set('Authorization', `Bearer ${token}`);
    expect(early.status).toBe(503);
    expect(early.headers['retry-after']).toBe('7');
    expect(JSON.parse(early.text)).toMatchObject({
      status: '503',
      detail: expect.stringMatching(/starting/),
    });
    start(service);
    await new Promise((resolve) => setImmediate(resolve));
    const later = await request(server).get('/Users').set('Authorization', `Bearer ${token}`);
    expect(later.status).toBe(200);
  });

  it('answers 503 for good when the service given as a promise fails to start', async () => {
    const handler = createScimNodeHandler(Promise.reject(new Error('migrations failed')));
    await new Promise((resolve) => setImmediate(resolve));
    const server = createServer((req, res) => void handler(req, res));
    const answer = await request(server).get('/Users');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(JSON.parse(answer.text)).toMatchObject({ detail: 'The SCIM service failed to start.' });
  });

  it('refuses bodies over its limit with 413', async () => {
    const { token, service } = await setup();
    const handler = createScimNodeHandler(service, { maxBodyBytes: 1024 });
    const res = await request(createServer((req, res) => void handler(req, res)))
      .post('/Users')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(user('big', { title: 'x'.repeat(5000) })));
    expect(res.status).toBe(413);
  });

  it.each([
    ['a store failure', (driver: Error) => new StoreError('The directory store failed.', driver), 503],
    ['an unexpected error', (driver: Error) => driver, 500],
  ])('logs %s with its cause, and nothing the client sent', async (_, failure, status) => {
    const { token, service, log } = await failingSetup(failure);
    const app = express();
    app.use('/scim/v2', createScimNodeHandler(service));
    const res = await request(app)
      .post('/scim/v2/Users?access_token=query-secret')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify({ ...user('ann'), password: 'Sup3r-Secret-Passw0rd' }));
    expect(res.status).toBe(status);
    expect(res.text).not.toContain('no such table');
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.message).toContain('POST /Users answered');
    expect(log.lines[0]!.message).toContain('SQLITE_ERROR: no such table: jit_scim_resources');
    for (const secret of [token, 'Sup3r-Secret-Passw0rd', 'query-secret'])
      expect(log.text()).not.toContain(secret);
  });

  it('does not log refusals (4xx)', async () => {
    const { service, log } = await failingSetup((driver) => driver);
    const res = await request(createServer((req, res) => void createScimNodeHandler(service)(req, res)))
      .get('/Users')
      .set('Authorization', 'Bearer not-a-token');
    expect(res.status).toBe(401);
    expect(log.lines).toHaveLength(0);
  });

  it('logs what it answers with a 500 itself when there is no next handler', async () => {
    const { service: real } = await setup();
    const service = {
      limits: real.limits,
      handle: async () => {
        throw new TypeError('the service broke', { cause: new Error('deep cause') });
      },
    };
    const log = recorder();
    const handler = createScimNodeHandler(service, { logger: log.logger });
    const res = await request(createServer((req, res) => void handler(req, res)))
      .get('/Users')
      .set('Authorization', 'Bearer a-directory-token');
    expect(res.status).toBe(500);
    expect(log.lines[0]!.message).toBe(
      'GET /Users answered 500: TypeError: the service broke <- caused by Error: deep cause',
    );
    expect(log.text()).not.toContain('a-directory-token');
  });
});
