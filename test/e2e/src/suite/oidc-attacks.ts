import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import {
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type JWTPayload,
} from 'jose';
import { Browser } from '../browser.js';
import type { SuiteContext, TestPerson } from './context.js';
import {
  auditMark,
  expectDenialAudited,
  expectNothingCreated,
  expectRefused,
  expectSignedIn,
  newPerson,
  oidcLogin,
  samlLogin,
  samlUser,
} from './context.js';

const ACME = { tenantId: 'acme', connectionId: 'acme-oidc' };
const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function registerOidcAttacks(ctx: SuiteContext): void {
  function account(person: TestPerson, claims: Record<string, unknown> = {}) {
    ctx.env.oidc.accounts.set(person.subject, { email: person.email, email_verified: true, ...claims });
  }

  /** Re-signs the ID token with the provider's own key after `edit` changed its claims. */
  const resigned = (edit: (claims: JWTPayload) => JWTPayload) => async (token: string) => {
    const { signingKey } = ctx.env.oidc;
    return new SignJWT(edit(decodeJwt(token)))
      .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid, typ: 'JWT' })
      .sign(signingKey.privateKey);
  };

  async function refusedLogin(
    person: TestPerson,
    code: 'OIDC_CALLBACK_INVALID',
    editCallback?: (url: URL) => URL,
  ) {
    const since = await auditMark();
    const { response } = await oidcLogin(ctx, new Browser(), 'acme-oidc', person.subject, editCallback);
    expectRefused(response, code);
    await expectNothingCreated(ctx, person, ACME, code, since);
  }

  describe('OIDC attacks that must fail', () => {
    it('refuses an ID token with alg "none"', async () => {
      const person = newPerson();
      account(person);
      ctx.env.oidc.tamperNextIdToken((token) => {
        const [, payload] = token.split('.');
        return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`;
      });
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID');
    });

    it('refuses an HS256 token signed with the provider’s public key', async () => {
      const person = newPerson();
      account(person);
      ctx.env.oidc.tamperNextIdToken(async (token) => {
        const publicPem = await exportSPKI(
          (await importJWK(ctx.env.oidc.signingKey.publicJwk, 'RS256')) as CryptoKey,
        );
        const header = b64url(
          JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: decodeProtectedHeader(token).kid }),
        );
        const payload = token.split('.')[1];
        const mac = createHmac('sha256', publicPem).update(`${header}.${payload}`).digest('base64url');
        return `${header}.${payload}.${mac}`;
      });
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID');
    });

    it('refuses an ID token signed by a key that is not the provider’s', async () => {
      const person = newPerson();
      account(person);
      const { privateKey } = await generateKeyPair('RS256');
      ctx.env.oidc.tamperNextIdToken((token) =>
        new SignJWT(decodeJwt(token))
          .setProtectedHeader({ alg: 'RS256', kid: ctx.env.oidc.signingKey.kid })
          .sign(privateKey),
      );
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID');
    });

    it('refuses an ID token from another issuer', async () => {
      const person = newPerson();
      account(person);
      ctx.env.oidc.tamperNextIdToken(resigned((c) => ({ ...c, iss: 'https://evil-idp.test' })));
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID');
    });

    it('refuses an ID token for another client (audience)', async () => {
      const person = newPerson();
      account(person);
      ctx.env.oidc.tamperNextIdToken(
        resigned((c) => ({ ...c, aud: 'another-client', azp: 'another-client' })),
      );
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID');
    });

    it('refuses an expired ID token', async () => {
      const person = newPerson();
      account(person);
      const now = Math.floor(Date.now() / 1000);
      ctx.env.oidc.tamperNextIdToken(resigned((c) => ({ ...c, iat: now - 7200, exp: now - 3600 })));
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID');
    });

    it('refuses an ID token with a wrong nonce', async () => {
      const person = newPerson();
      account(person);
      ctx.env.oidc.tamperNextIdToken(resigned((c) => ({ ...c, nonce: 'not-the-nonce-of-this-login' })));
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID');
    });

    it('refuses an ID token without a nonce', async () => {
      const person = newPerson();
      account(person);
      ctx.env.oidc.tamperNextIdToken(resigned(({ nonce: _nonce, ...c }) => c));
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID');
    });

    it('refuses a callback with a wrong state', async () => {
      const person = newPerson();
      account(person);
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID', (url) => {
        url.searchParams.set('state', 'forged-state');
        return url;
      });
    });

    it('refuses a callback without a state', async () => {
      const person = newPerson();
      account(person);
      await refusedLogin(person, 'OIDC_CALLBACK_INVALID', (url) => {
        url.searchParams.delete('state');
        return url;
      });
    });

    it('refuses a callback in a browser that did not start the login', async () => {
      const person = newPerson();
      account(person);
      let stolen = '';
      await oidcLogin(ctx, new Browser(), 'acme-oidc', person.subject, (url) => {
        stolen = url.href;
        url.searchParams.set('code', 'spent');
        return url;
      });
      const since = await auditMark();
      const response = await new Browser().get(stolen, { json: true });
      expectRefused(response, 'OIDC_CALLBACK_INVALID');
      await expectNothingCreated(ctx, person, ACME, 'OIDC_CALLBACK_INVALID', since);
    });

    /** A person signed in through SAML, and someone else at the OIDC IdP claiming their email. */
    async function victimAndImpostor() {
      const victim = newPerson();
      const browser = new Browser();
      const existing = await expectSignedIn(
        ctx,
        browser,
        (await samlLogin(ctx, browser, 'acme-saml', samlUser(victim))).response,
        victim.email,
      );
      return { existing, attacker: { ...newPerson(), email: victim.email } };
    }

    it('does not link an existing account on an unverified email', async () => {
      const { existing, attacker } = await victimAndImpostor();
      account(attacker, { email_verified: false });
      const since = await auditMark();
      const { response } = await oidcLogin(ctx, new Browser(), 'acme-oidc', attacker.subject);
      expectRefused(response, 'EMAIL_NOT_VERIFIED');
      await expectDenialAudited(ctx, ACME, 'EMAIL_NOT_VERIFIED', since);
      expect(await ctx.env.store.listIdentitiesOfUser(existing.user.id)).toHaveLength(1);
      expect(await ctx.env.store.findIdentity('acme-oidc', attacker.subject)).toBeNull();
    });

    it('does not let an IdP that is not authoritative for the domain take over an account', async () => {
      const { existing, attacker } = await victimAndImpostor();
      account(attacker, { email_verified: true });
      const since = await auditMark();
      const { response } = await oidcLogin(ctx, new Browser(), 'acme-oidc-partner', attacker.subject);
      expectRefused(response, 'DOMAIN_NOT_ALLOWED');
      await expectDenialAudited(
        ctx,
        { tenantId: 'acme', connectionId: 'acme-oidc-partner' },
        'DOMAIN_NOT_ALLOWED',
        since,
      );
      expect(await ctx.env.store.listIdentitiesOfUser(existing.user.id)).toHaveLength(1);
    });

    it('refuses a token of a directory (tenant) the connection does not admit', async () => {
      const where = { tenantId: 'acme', connectionId: 'acme-oidc-entra' };
      const outsider = newPerson();
      account(outsider, { tid: 'dir-evil' });
      const since = await auditMark();
      const { response } = await oidcLogin(ctx, new Browser(), 'acme-oidc-entra', outsider.subject);
      expectRefused(response, 'OIDC_TENANT_NOT_ALLOWED');
      await expectNothingCreated(ctx, outsider, where, 'OIDC_TENANT_NOT_ALLOWED', since);

      const member = newPerson();
      account(member, { tid: 'dir-acme' });
      const browser = new Browser();
      const admitted = await oidcLogin(ctx, browser, 'acme-oidc-entra', member.subject);
      await expectSignedIn(ctx, browser, admitted.response, member.email);
    });
  });
}
