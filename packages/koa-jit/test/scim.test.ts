import { describe, expect, it } from 'vitest';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import request from 'supertest';
import { scimTestDirectory, scimUser } from '@jit-sso/scim/testing';
import { scimMiddleware } from '../src/index.js';

describe('scimMiddleware', () => {
  it('serves its path after koa-bodyparser read the body, and leaves other paths to the app', async () => {
    const { scim, auth } = await scimTestDirectory('http://app.test/directory/scim');
    const app = new Koa();
    app.use(bodyParser());
    app.use(scimMiddleware(scim, { path: '/directory/scim' }));
    app.use((ctx) => {
      ctx.body = 'app';
    });
    const server = app.callback();

    const created = await request(server)
      .post('/directory/scim/Users')
      .set('Authorization', auth)
      .send(scimUser('a@acme.test'));
    expect(created.status, created.text).toBe(201);
    const id = JSON.parse(created.text).id as string;
    const read = await request(server).get(`/directory/scim/Users/${id}`).set('Authorization', auth);
    expect(read.status, read.text).toBe(200);
    expect(JSON.parse(read.text)).toMatchObject({ id, userName: 'a@acme.test', active: true });
    expect((await request(server).get('/directory/scimx')).text).toBe('app');
    expect((await request(server).get('/scim/v2/Users')).text).toBe('app');
  });

  it('reads raw scim+json bodies when it comes before the body parser', async () => {
    const { scim, auth } = await scimTestDirectory('http://app.test/directory/scim');
    const app = new Koa().use(scimMiddleware(scim, { path: '/directory/scim' }));
    const created = await request(app.callback())
      .post('/directory/scim/Users')
      .set('Authorization', auth)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify(scimUser('b@acme.test')));
    expect(created.status, created.text).toBe(201);
    const unauthorised = await request(app.callback()).get('/directory/scim/Users');
    expect(unauthorised.status).toBe(401);
  });

  it('logs what it answers with a 500 itself through its logger, without the token', async () => {
    const lines: string[] = [];
    const { scim } = await scimTestDirectory('http://app.test/scim/v2');
    const broken = {
      limits: scim.limits,
      handle: () => Promise.reject(new TypeError('broken', { cause: new Error('no such table: jit_scim') })),
    };
    const app = new Koa().use(
      scimMiddleware(broken, {
        logger: { error: (record, message) => void lines.push(message, JSON.stringify(record)) },
      }),
    );
    const res = await request(app.callback())
      .get('/scim/v2/Users')
      .set('Authorization', 'Bearer scim-token-secret');
    expect(res.status).toBe(500);
    expect(lines[0]).toBe(
      'GET /Users answered 500: TypeError: broken <- caused by Error: no such table: jit_scim',
    );
    expect(lines.join()).not.toContain('scim-token-secret');
  });
});
