import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { Browser } from '../browser.js';
import { expectRefused, expectSignedIn, me, newPerson, oidcLogin, type SuiteContext } from './context.js';

const SCIM_JSON = 'application/scim+json';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * The directory's view of one person, through the app's SCIM mount: created and found by the
 * directory, signed in through SSO, then deactivated by the directory while signed in.
 */
export function registerScimLifecycle(ctx: SuiteContext): void {
  describe('SCIM mount', () => {
    it('creates, finds and deactivates a user, whose live session then ends', async () => {
      const scim = () => request(`${ctx.baseUrl}/scim/v2`);
      const bearer = `Bearer ${ctx.env.scimToken}`;
      const person = newPerson('acme.test', 'scim');

      const created = await scim()
        .post('/Users')
        .set('Authorization', bearer)
        .set('Content-Type', SCIM_JSON)
        .send(
          JSON.stringify({
            schemas: [USER_SCHEMA],
            userName: person.email,
            externalId: `ext-${person.subject}`,
            name: { givenName: 'Ada', familyName: 'Lovelace' },
            emails: [{ value: person.email, type: 'work', primary: true }],
            active: true,
          }),
        );
      expect(created.status, created.text).toBe(201);
      expect(created.headers['content-type']).toMatch(/^application\/scim\+json/);
      const id = JSON.parse(created.text).id as string;
      expect(created.headers['location']).toBe(`${ctx.baseUrl}/scim/v2/Users/${id}`);

      const found = await scim()
        .get('/Users')
        .query({ filter: `userName eq "${person.email}"` })
        .set('Authorization', bearer);
      expect(found.status, found.text).toBe(200);
      const list = JSON.parse(found.text) as {
        totalResults: number;
        Resources: { id: string; active: boolean }[];
      };
      expect(list.totalResults).toBe(1);
      expect(list.Resources[0]).toMatchObject({ id, active: true });

      // The directory's user signs in through SSO: the login is linked to the same account.
      ctx.env.oidc.accounts.set(person.subject, { email: person.email, email_verified: true });
      const browser = new Browser();
      const signedIn = await expectSignedIn(
        ctx,
        browser,
        (await oidcLogin(ctx, browser, 'acme-oidc', person.subject)).response,
        person.email,
      );
      expect(signedIn.user.id).toBe(id);

      const deactivated = await scim()
        .patch(`/Users/${id}`)
        .set('Authorization', bearer)
        .set('Content-Type', SCIM_JSON)
        .send(
          JSON.stringify({
            schemas: [PATCH_SCHEMA],
            Operations: [{ op: 'replace', path: 'active', value: false }],
          }),
        );
      // 200 with the resource, or 204 (RFC 7644 3.5.2).
      expect([200, 204], deactivated.text).toContain(deactivated.status);
      const read = await scim().get(`/Users/${id}`).set('Authorization', bearer);
      expect(read.status, read.text).toBe(200);
      expect(JSON.parse(read.text)).toMatchObject({ id, active: false });

      expectRefused(await me(ctx, browser), 'SESSION_ENDED');
      // And the session is gone, not just refused once.
      expect((await me(ctx, browser)).status).toBe(401);
    });

    it('answers 401 in SCIM form without a valid bearer token, and creates nothing', async () => {
      const person = newPerson('acme.test', 'scim');
      for (const authorization of [undefined, 'Bearer not-a-directory-token']) {
        const attempt = request(`${ctx.baseUrl}/scim/v2`).post('/Users').set('Content-Type', SCIM_JSON);
        if (authorization) attempt.set('Authorization', authorization);
        const response = await attempt.send(
          JSON.stringify({ schemas: [USER_SCHEMA], userName: person.email }),
        );
        expect(response.status).toBe(401);
        expect(JSON.parse(response.text)).toMatchObject({ status: '401' });
      }
      const found = await request(`${ctx.baseUrl}/scim/v2`)
        .get('/Users')
        .query({ filter: `userName eq "${person.email}"` })
        .set('Authorization', `Bearer ${ctx.env.scimToken}`);
      expect(JSON.parse(found.text)).toMatchObject({ totalResults: 0 });
    });

    it('answers malformed JSON with a SCIM invalidSyntax error', async () => {
      const response = await request(`${ctx.baseUrl}/scim/v2`)
        .post('/Users')
        .set('Authorization', `Bearer ${ctx.env.scimToken}`)
        .set('Content-Type', SCIM_JSON)
        .send('{"userName": ');
      expect(response.status).toBe(400);
      expect(JSON.parse(response.text)).toMatchObject({ scimType: 'invalidSyntax' });
    });
  });
}
