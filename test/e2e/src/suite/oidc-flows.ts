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

export function registerOidcLifecycle(ctx: SuiteContext): void {
  describe('OIDC lifecycle', () => {
    it('updates groups at the next login, and keeps tenants apart for the same IdP account', async () => {
      const person = newPerson();
      ctx.env.oidc.accounts.set(person.subject, {
        email: person.email,
        email_verified: true,
        groups: ['engineering', 'admins'],
      });
      const first = new Browser();
      const created = await expectSignedIn(
        ctx,
        first,
        (await oidcLogin(ctx, first, 'acme-oidc', person.subject)).response,
        person.email,
      );
      expect(created.roles).toEqual(['admin', 'developer']);

      ctx.env.oidc.accounts.set(person.subject, {
        email: person.email,
        email_verified: true,
        groups: ['engineering'],
      });
      const second = new Browser();
      const updated = await expectSignedIn(
        ctx,
        second,
        (await oidcLogin(ctx, second, 'acme-oidc', person.subject)).response,
        person.email,
      );
      expect(updated.user.id).toBe(created.user.id);
      expect(updated.roles).toEqual(['developer']);

      // The same IdP account through tenant B's connection is not tenant A's user.
      const globexEmail = person.email.replace('@acme.test', '@globex.test');
      ctx.env.oidc.accounts.set(person.subject, { email: globexEmail, email_verified: true });
      const third = new Browser();
      const other = await expectSignedIn(
        ctx,
        third,
        (await oidcLogin(ctx, third, 'globex-oidc', person.subject)).response,
        globexEmail,
      );
      expect(other.user.tenantId).toBe('globex');
      expect(other.user.id).not.toBe(created.user.id);
    });
  });
}
