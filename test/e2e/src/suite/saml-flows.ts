import { describe, expect, it } from 'vitest';
import { Browser } from '../browser.js';
import { expectSignedIn, newPerson, samlLogin, samlUser, type SuiteContext } from './context.js';

export function registerSamlFlows(ctx: SuiteContext): void {
  describe('SAML login', () => {
    it('creates the account at the first login, with mapped attributes and roles', async () => {
      const person = newPerson();
      const browser = new Browser();
      const login = await samlLogin(ctx, browser, 'acme-saml', samlUser(person, { groups: ['engineering'], givenName: 'Ada' }));
      const me = await expectSignedIn(ctx, browser, login.response, person.email);
      expect(me.user.tenantId).toBe('acme');
      expect(me.user.attributes['firstName']).toBe('Ada');
      expect(me.roles).toEqual(['developer']);
      const identity = await ctx.env.store.findIdentity('acme-saml', person.subject);
      expect(identity?.user.id).toBe(me.user.id);
      const audit = await ctx.env.store.listAuditEvents({ userId: me.user.id, limit: 10 });
      expect(audit.map((e) => e.action)).toEqual(['created']);
    });
  });
}
