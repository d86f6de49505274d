import { describe, expect, it } from 'vitest';
import { createVerify, randomUUID } from 'node:crypto';
import { Browser } from '../browser.js';
import { IDP_KEY, OTHER_IDP_KEY, SP_KEY } from '../saml-idp.js';
import {
  auditMark,
  expectDenialAudited,
  expectNothingCreated,
  expectRefused,
  expectSignedIn,
  me,
  newPerson,
  samlLogin,
  samlLoginWith,
  samlUser,
  startSamlLogin,
  type SuiteContext,
} from './context.js';

export function registerSamlFlows(ctx: SuiteContext): void {
  describe('SAML login', () => {
    it('creates the account at the first login, with mapped attributes and roles', async () => {
      const person = newPerson();
      const browser = new Browser();
      const login = await samlLogin(
        ctx,
        browser,
        'acme-saml',
        samlUser(person, { groups: ['engineering'], givenName: 'Ada' }),
      );
      const me = await expectSignedIn(ctx, browser, login.response, person.email);
      expect(me.user.tenantId).toBe('acme');
      expect(me.user.attributes['firstName']).toBe('Ada');
      expect(me.roles).toEqual(['developer']);
      const identity = await ctx.env.store.findIdentity('acme-saml', person.subject);
      expect(identity?.user.id).toBe(me.user.id);
      const audit = await ctx.env.store.listAuditEvents({ userId: me.user.id, limit: 10 });
      expect(audit.map((e) => e.action)).toEqual(['created']);
    });

    it('updates changed attributes and roles at the next login, and removes the role of a removed group', async () => {
      const person = newPerson();
      const first = new Browser();
      const created = await expectSignedIn(
        ctx,
        first,
        (
          await samlLogin(
            ctx,
            first,
            'acme-saml',
            samlUser(person, { groups: ['engineering', 'admins'], givenName: 'Ada' }),
          )
        ).response,
        person.email,
      );
      expect(created.roles).toEqual(['admin', 'developer']);

      const second = new Browser();
      const updated = await expectSignedIn(
        ctx,
        second,
        (
          await samlLogin(
            ctx,
            second,
            'acme-saml',
            samlUser(person, { groups: ['engineering'], givenName: 'Augusta' }),
          )
        ).response,
        person.email,
      );
      expect(updated.user.id).toBe(created.user.id);
      expect(updated.user.attributes['firstName']).toBe('Augusta');
      expect(updated.roles).toEqual(['developer']);
      const audit = await ctx.env.store.listAuditEvents({ userId: created.user.id, limit: 10 });
      expect(audit.map((e) => e.action)).toEqual(['created', 'updated']);
      expect(audit[1]!.changes.map((c) => c.field).sort()).toEqual(['firstName', 'roles']);
    });

    it('shows a browser the refusal with its status and code, and nothing of the response', async () => {
      const person = newPerson();
      const browser = new Browser();
      const request = await startSamlLogin(ctx, browser, 'acme-saml');
      const xml = ctx.env.saml.createResponse({
        request,
        user: samlUser(person),
        recipient: 'https://other-service.test/acs',
      });
      const page = await browser.post(request.acsUrl, {
        SAMLResponse: Buffer.from(xml).toString('base64'),
        RelayState: '',
      });
      expect(page.status).toBe(401);
      expect(page.body).toContain('SAML_RECIPIENT_MISMATCH');
      expect(page.body).not.toContain(person.subject);
      expect(page.body).not.toContain(person.email);
      expect(page.body).not.toMatch(/<saml|SAMLResponse|at .*\.(ts|js):\d+/);
    });

    it('signs the AuthnRequest with RSA-SHA256 and the SP key', async () => {
      const start = await new Browser().get(`${ctx.baseUrl}/auth/saml/acme-saml/login`);
      const query = new URL(start.location!).search.slice(1);
      const parts = query.split('&');
      const signature = parts.find((p) => p.startsWith('Signature='));
      const signed = parts.filter((p) => !p.startsWith('Signature=')).join('&');
      expect(new URLSearchParams(query).get('SigAlg')).toBe(
        'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      );
      const verifier = createVerify('RSA-SHA256').update(signed);
      expect(
        verifier.verify(SP_KEY.cert, decodeURIComponent(signature!.slice('Signature='.length)), 'base64'),
      ).toBe(true);
    });

    it('accepts either pinned certificate during a rollover', async () => {
      for (const signingKey of [IDP_KEY, OTHER_IDP_KEY]) {
        const person = newPerson();
        const browser = new Browser();
        const login = await samlLoginWith(ctx, browser, 'acme-saml-rollover', {
          user: samlUser(person),
          signingKey,
        });
        await expectSignedIn(ctx, browser, login.response, person.email);
      }
    });

    it('serves the SP metadata of a connection', async () => {
      const answer = await new Browser().get(`${ctx.baseUrl}/auth/saml/acme-saml/metadata`);
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(`entityID="${ctx.baseUrl}/auth/saml/acme-saml/metadata"`);
      expect(answer.body).toContain(`Location="${ctx.baseUrl}/auth/saml/acme-saml/acs"`);
    });

    it('answers an unknown connection, or one of the other protocol, with UNKNOWN_CONNECTION', async () => {
      expectRefused(
        await new Browser().get(`${ctx.baseUrl}/auth/saml/no-such-connection/login`, { json: true }),
        'UNKNOWN_CONNECTION',
      );
      expectRefused(
        await new Browser().get(`${ctx.baseUrl}/auth/saml/acme-oidc/login`, { json: true }),
        'UNKNOWN_CONNECTION',
      );
      expectRefused(
        await new Browser().get(`${ctx.baseUrl}/auth/oidc/acme-saml/login`, { json: true }),
        'UNKNOWN_CONNECTION',
      );
    });

    it('writes a denial to the audit for each sign-in route that names an unknown connection', async () => {
      const routes = [
        ['GET', 'saml', 'login'],
        ['POST', 'saml', 'acs'],
        ['GET', 'oidc', 'login'],
        ['GET', 'oidc', 'callback'],
      ] as const;
      for (const [method, protocol, step] of routes) {
        const connectionId = `no-such-${randomUUID()}`;
        const since = await auditMark();
        const url = `${ctx.baseUrl}/auth/${protocol}/${connectionId}/${step}`;
        const answer =
          method === 'POST'
            ? await new Browser().post(url, { SAMLResponse: 'PHNhbWxwOlJlc3BvbnNlLz4=' }, { json: true })
            : await new Browser().get(`${url}?code=x&state=y`, { json: true });
        expectRefused(answer, 'UNKNOWN_CONNECTION');
        await expectDenialAudited(ctx, { tenantId: 'unknown', connectionId }, 'UNKNOWN_CONNECTION', since);
      }
      // A connection of the other protocol belongs to a tenant: the denial is that tenant's.
      const since = await auditMark();
      expectRefused(
        await new Browser().get(`${ctx.baseUrl}/auth/oidc/acme-saml/login`, { json: true }),
        'UNKNOWN_CONNECTION',
      );
      await expectDenialAudited(
        ctx,
        { tenantId: 'acme', connectionId: 'acme-saml' },
        'UNKNOWN_CONNECTION',
        since,
      );
    });

    it('does not let a connection of tenant A sign anyone into tenant B', async () => {
      const person = newPerson('globex.test');
      const globex = { tenantId: 'globex', connectionId: 'globex-saml' };
      // Signed with the key both connections trust, but issued as tenant A's IdP.
      let since = await auditMark();
      const asA = await samlLoginWith(ctx, new Browser(), 'globex-saml', {
        user: samlUser(person),
        issuer: ctx.env.saml.entityIdFor('acme-saml'),
      });
      expectRefused(asA.response, 'SAML_ISSUER_MISMATCH');
      await expectNothingCreated(ctx, person, globex, 'SAML_ISSUER_MISMATCH', since);

      // A valid response of tenant A's login, delivered to tenant B's ACS.
      since = await auditMark();
      const browser = new Browser();
      const start = await browser.get(`${ctx.baseUrl}/auth/saml/acme-saml/login`);
      const request = ctx.env.saml.requestFromRedirect(start.location!);
      const xml = ctx.env.saml.createResponse({ request, user: samlUser(person) });
      const answer = await browser.post(
        `${ctx.baseUrl}/auth/saml/globex-saml/acs`,
        { SAMLResponse: Buffer.from(xml).toString('base64') },
        { json: true },
      );
      expect(answer.status).toBe(401);
      await expectNothingCreated(
        ctx,
        person,
        globex,
        answer.json<{ error: { code: 'SAML_RESPONSE_INVALID' } }>().error.code,
        since,
      );
      expect(await ctx.env.store.findUserByEmail('acme', person.email)).toBeNull();
    });

    it('with JIT off, refuses unknown people and admits existing ones', async () => {
      const where = { tenantId: 'acme', connectionId: 'acme-saml-nojit' };
      const stranger = newPerson();
      const since = await auditMark();
      const refused = await samlLogin(ctx, new Browser(), 'acme-saml-nojit', samlUser(stranger));
      expectRefused(refused.response, 'JIT_DISABLED');
      await expectNothingCreated(ctx, stranger, where, 'JIT_DISABLED', since);

      const known = newPerson();
      const at = new Date();
      const userId = randomUUID();
      await ctx.env.store.transaction(async (tx) => {
        await tx.insertUser({
          id: userId,
          tenantId: 'acme',
          email: known.email,
          status: 'active',
          source: 'manual',
          attributes: {},
          roles: [{ role: 'member', source: 'manual' }],
          externalId: null,
          createdAt: at,
          lastLoginAt: null,
        });
        await tx.insertIdentity({
          id: randomUUID(),
          tenantId: 'acme',
          connectionId: 'acme-saml-nojit',
          subject: known.subject,
          userId,
          createdAt: at,
        });
      });
      const browser = new Browser();
      const admitted = await expectSignedIn(
        ctx,
        browser,
        (await samlLogin(ctx, browser, 'acme-saml-nojit', samlUser(known))).response,
        known.email,
      );
      expect(admitted.user.id).toBe(userId);
      expect(admitted.roles).toContain('member');
    });

    it('refuses a deactivated user and ends their live session', async () => {
      const person = newPerson();
      const browser = new Browser();
      const signedIn = await expectSignedIn(
        ctx,
        browser,
        (await samlLogin(ctx, browser, 'acme-saml', samlUser(person))).response,
        person.email,
      );
      await ctx.env.provisioner.deactivateUser(signedIn.user.id, { reason: 'left the company' });

      expectRefused(await me(ctx, browser), 'SESSION_ENDED');
      expectRefused(await me(ctx, browser), 'SESSION_ENDED');

      const since = await auditMark();
      const again = new Browser();
      const refused = await samlLogin(ctx, again, 'acme-saml', samlUser(person));
      expectRefused(refused.response, 'USER_DEACTIVATED');
      await expectDenialAudited(
        ctx,
        { tenantId: 'acme', connectionId: 'acme-saml' },
        'USER_DEACTIVATED',
        since,
      );
      expectRefused(await me(ctx, again), 'SESSION_ENDED');
    });

    it('ends the session at logout', async () => {
      const person = newPerson();
      const browser = new Browser();
      await expectSignedIn(
        ctx,
        browser,
        (await samlLogin(ctx, browser, 'acme-saml', samlUser(person))).response,
        person.email,
      );
      const out = await browser.request('POST', `${ctx.baseUrl}/logout`, { json: true });
      expect(out.status).toBeLessThan(400);
      expectRefused(await me(ctx, browser), 'SESSION_ENDED');
    });
  });
}
