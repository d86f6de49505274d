import { describe, expect, it } from 'vitest';
import { Browser } from '../browser.js';
import { expectSignedIn, newPerson, oidcLogin, type SuiteContext } from './context.js';

export function registerOidcFlows(ctx: SuiteContext): void {
  describe('OIDC login', () => {
    it('creates the account at the first login, with PKCE, state and nonce in the request', async () => {
      const person = newPerson();
      ctx.env.oidc.accounts.set(person.subject, {
        email: person.email,
        email_verified: true,
        given_name: 'Grace',
        groups: ['admins'],
      });
      const browser = new Browser();
      const login = await oidcLogin(ctx, browser, 'acme-oidc', person.subject);
      const query = login.authorizationUrl.searchParams;
      expect(query.get('code_challenge_method')).toBe('S256');
      expect(query.get('code_challenge')).toBeTruthy();
      expect(query.get('state')).toBeTruthy();
      expect(query.get('nonce')).toBeTruthy();
      const me = await expectSignedIn(ctx, browser, login.response, person.email);
      expect(me.user.attributes['firstName']).toBe('Grace');
      expect(me.roles).toEqual(['admin']);
      expect((await ctx.env.store.findIdentity('acme-oidc', person.subject))?.user.id).toBe(me.user.id);
    });
  });
}
