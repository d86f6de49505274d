import { describe, expect, it } from 'vitest';
import express from 'express';
import request from 'supertest';
import { SignJWT } from 'jose';
import { createProvisioner, JitError, MemoryStore, fromOidcClaims, type UserRecord } from '@jit-sso/core';
import { createJwtSession, jitErrorHandler, requireActiveUser, roleNames } from '../src/index.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

function appWithErrors(error: unknown) {
  const app = express();
  app.get('/', (_req, _res, next) => next(error));
  app.use(jitErrorHandler());
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).send('app handler');
  });
  return app;
}

describe('jitErrorHandler', () => {
  const error = new JitError('SAML_RECIPIENT_MISMATCH', 'Wrong ACS <b>URL</b>.', {
    cause: new Error('secret internals'),
  });

  it('answers JSON with the status, code, message and hint, and nothing internal', async () => {
    const res = await request(appWithErrors(error)).get('/').set('accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: { code: 'SAML_RECIPIENT_MISMATCH', message: 'Wrong ACS <b>URL</b>.', hint: error.hint },
    });
    expect(res.text).not.toContain('secret internals');
  });

  it('answers an escaped HTML page to a browser', async () => {
    const res = await request(appWithErrors(error)).get('/').set('accept', 'text/html');
    expect(res.status).toBe(401);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('Wrong ACS &lt;b&gt;URL&lt;/b&gt;.');
    expect(res.text).toContain('SAML_RECIPIENT_MISMATCH');
    expect(res.text).not.toContain('secret internals');
  });

  it('leaves other errors to the app', async () => {
    const res = await request(appWithErrors(new Error('boom'))).get('/');
    expect(res.text).toBe('app handler');
  });
});

describe('createJwtSession with requireActiveUser', () => {
  async function setup() {
    const store = new MemoryStore();
    const provisioner = createProvisioner({
      store,
      connections: [
        {
          id: 'c',
          tenantId: 't',
          protocol: 'oidc',
          issuer: 'https://idp.test',
          jit: { verifiedDomains: ['t.test'] },
        },
      ],
    });
    const { user } = await provisioner.provision({
      connectionId: 'c',
      profile: fromOidcClaims({ iss: 'https://idp.test', sub: 's', email: 'a@t.test', email_verified: true }),
    });
    const jwt = createJwtSession({ secret: SECRET, issuer: 'app', audience: 'app' });
    const app = express();
    app.get('/me', jwt.authenticate, requireActiveUser(provisioner), (req, res) => {
      const current = req.user as UserRecord;
      res.json({ id: current.id, roles: roleNames(current) });
    });
    app.use(jitErrorHandler());
    return { provisioner, user, jwt, app };
  }

  it('admits a valid token of an active user and re-loads the user', async () => {
    const { user, jwt, app } = await setup();
    const token = await jwt.issue(user);
    const res = await request(app)
      .get('/me')
      .set('authorization', `Bearer ${token}`)
      .set('accept', 'application/json');
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(user.id);
  });

  it('stops a token from working as soon as the user is deactivated', async () => {
    const { provisioner, user, jwt, app } = await setup();
    const token = await jwt.issue(user);
    await provisioner.deactivateUser(user.id);
    const res = await request(app)
      .get('/me')
      .set('authorization', `Bearer ${token}`)
      .set('accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_ENDED');
  });

  it('refuses a missing, tampered, foreign or unsigned token', async () => {
    const { user, jwt, app } = await setup();
    const token = await jwt.issue(user);
    const [h, p] = token.split('.');
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('app')
      .setAudience('app')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-that-is-long-enough-0123456789'));
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    for (const bad of [undefined, `${h}.${p}.AAAA`, foreign, none]) {
      const req = request(app).get('/me').set('accept', 'application/json');
      const res = await (bad ? req.set('authorization', `Bearer ${bad}`) : req);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('SESSION_ENDED');
    }
  });

  it('refuses a short secret at start-up', () => {
    expect(() => createJwtSession({ secret: 'short', issuer: 'a', audience: 'a' })).toThrow(JitError);
  });
});
