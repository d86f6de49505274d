import { describe, expect, it } from 'vitest';
import { Browser } from '../browser.js';
import {
  auditMark,
  expectNothingCreated,
  expectRefused,
  expectSignedIn,
  newPerson,
  oidcLogin,
  samlLogin,
  samlLoginWith,
  samlUser,
  startSamlLogin,
  type SuiteContext,
} from './context.js';

const ACME_SAML = { tenantId: 'acme', connectionId: 'acme-saml' };
const ACME_OIDC = { tenantId: 'acme', connectionId: 'acme-oidc' };

/**
 * Login CSRF: an attacker starts a login, signs in at the IdP as themself, and makes the victim's
 * browser deliver the answer, so that the victim would work in the attacker's account.
 */
export function registerLoginCsrf(ctx: SuiteContext): void {
  describe('login CSRF', () => {
    /** The attacker's own login, stopped before its response reaches the app. */
    async function attackersResponse(attacker: ReturnType<typeof newPerson>) {
      const request = await startSamlLogin(ctx, new Browser(), 'acme-saml');
      const xml = ctx.env.saml.createResponse({ request, user: samlUser(attacker) });
      return {
        acsUrl: request.acsUrl,
        fields: { SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: request.relayState },
      };
    }

    it('refuses a SAML response posted from a browser that did not start the login', async () => {
      const attacker = newPerson('acme.test', 'attacker');
      const { acsUrl, fields } = await attackersResponse(attacker);
      const since = await auditMark();
      const victim = new Browser();
      expectRefused(await victim.post(acsUrl, fields, { json: true }), 'LOGIN_NOT_STARTED_HERE');
      await expectNothingCreated(ctx, attacker, ACME_SAML, 'LOGIN_NOT_STARTED_HERE', since);
      expectRefused(await victim.get(`${ctx.baseUrl}/me`, { json: true }), 'SESSION_ENDED');
    });

    it('refuses it also in a browser that started a login of its own', async () => {
      const attacker = newPerson('acme.test', 'attacker');
      const { acsUrl, fields } = await attackersResponse(attacker);
      const victim = new Browser();
      await startSamlLogin(ctx, victim, 'acme-saml');
      const since = await auditMark();
      expectRefused(await victim.post(acsUrl, fields, { json: true }), 'LOGIN_NOT_STARTED_HERE');
      await expectNothingCreated(ctx, attacker, ACME_SAML, 'LOGIN_NOT_STARTED_HERE', since);
    });

    it('refuses a request id of one connection on another', async () => {
      const person = newPerson('globex.test');
      const browser = new Browser();
      const ofAcme = await startSamlLogin(ctx, browser, 'acme-saml');
      const since = await auditMark();
      // A response of globex's IdP, for globex's ACS, answering the request acme's login made.
      const { response } = await samlLoginWith(ctx, browser, 'globex-saml', {
        user: samlUser(person),
        inResponseTo: ofAcme.id,
      });
      expectRefused(response, 'LOGIN_NOT_STARTED_HERE');
      await expectNothingCreated(
        ctx,
        person,
        { tenantId: 'globex', connectionId: 'globex-saml' },
        'LOGIN_NOT_STARTED_HERE',
        since,
      );
    });

    it('still signs in the browser that started the login, and two logins started in two tabs', async () => {
      const person = newPerson();
      const browser = new Browser();
      const first = await startSamlLogin(ctx, browser, 'acme-saml');
      const second = await startSamlLogin(ctx, browser, 'acme-saml');
      const answer = (request: typeof first) => {
        const xml = ctx.env.saml.createResponse({ request, user: samlUser(person) });
        return { SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: request.relayState };
      };
      const viaFirst = await browser.post(first.acsUrl, answer(first), { json: true });
      await expectSignedIn(ctx, browser, viaFirst, person.email);
      const viaSecond = await browser.post(second.acsUrl, answer(second), { json: true });
      await expectSignedIn(ctx, browser, viaSecond, person.email);
      const other = newPerson();
      const { response } = await samlLogin(ctx, new Browser(), 'acme-saml', samlUser(other));
      expect(response.status, response.body).toBe(303);
    });

    it('refuses an OIDC callback opened in another browser, even one with a login of its own', async () => {
      const attacker = newPerson('acme.test', 'attacker');
      ctx.env.oidc.accounts.set(attacker.subject, { email: attacker.email, email_verified: true });
      let callback = '';
      // The attacker keeps the callback (a valid code and state) instead of following it.
      await oidcLogin(ctx, new Browser(), 'acme-oidc', attacker.subject, (url) => {
        callback = url.href;
        return new URL('/', url);
      });
      const victim = new Browser();
      await victim.get(`${ctx.baseUrl}/auth/oidc/acme-oidc/login`);
      const since = await auditMark();
      const response = await victim.get(callback, { json: true });
      expectRefused(response, 'OIDC_CALLBACK_INVALID');
      expect(response.json<{ error: { message: string } }>().error.message).toMatch(/\(state\)/);
      await expectNothingCreated(ctx, attacker, ACME_OIDC, 'OIDC_CALLBACK_INVALID', since);
    });
  });
}
