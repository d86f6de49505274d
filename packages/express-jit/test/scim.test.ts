import { describe, expect, it } from 'vitest';
import express from 'express';
import request from 'supertest';
import { scimTestDirectory, scimUser } from '@jit-sso/scim/testing';
import { scimRouter } from '../src/index.js';

describe('scimRouter', () => {
  it('serves the SCIM base behind express.json(): parsed JSON bodies and raw scim+json bodies', async () => {
    const { scim, auth } = await scimTestDirectory('http://app.test/scim/v2');
    const app = express();
    app.use(express.json());
    app.use('/scim/v2', scimRouter(scim));
    app.get('/health', (_req, res) => res.send('ok'));

    const parsed = await request(app)
      .post('/scim/v2/Users')
      .set('Authorization', auth)
      .send(scimUser('a@acme.test'));
    expect(parsed.status, parsed.text).toBe(201);
    const raw = await request(app)
      .post('/scim/v2/Users')
      .set('Authorization', auth)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify(scimUser('b@acme.test')));
    expect(raw.status, raw.text).toBe(201);
    expect(raw.headers['location']).toBe(`http://app.test/scim/v2/Users/${JSON.parse(raw.text).id}`);

    const found = await request(app)
      .get('/scim/v2/Users')
      .query({ filter: 'userName eq "b@acme.test"' })
      .set('Authorization', auth);
    expect(JSON.parse(found.text)).toMatchObject({
      totalResults: 1,
      Resources: [{ userName: 'b@acme.test' }],
    });
    expect((await request(app).get('/health')).text).toBe('ok');
  });

  it('refuses a request without the directory token', async () => {
    const { scim } = await scimTestDirectory('http://app.test/scim/v2');
    const app = express().use('/scim/v2', scimRouter(scim));
    const response = await request(app).get('/scim/v2/Users');
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
  });
});
