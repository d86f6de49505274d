import { describe, expect, it } from 'vitest';
import { Browser } from '../browser.js';
import { NAMEID_TRANSIENT, OTHER_IDP_KEY } from '../saml-idp.js';
import {
  auditMark,
  expectDenialAudited,
  expectNothingCreated,
  expectRefused,
  expectSignedIn,
  newPerson,
  samlLogin,
  samlLoginWith,
  samlUser,
  startSamlLogin,
  type SuiteContext,
} from './context.js';
import { wrapSignature, type WrappingVariant } from './xsw.js';

const ACME = { tenantId: 'acme', connectionId: 'acme-saml' };
const MINUTE = 60_000;

export function registerSamlAttacks(ctx: SuiteContext): void {
  describe('SAML attacks that must fail', () => {
    const variants: [WrappingVariant, string][] = [
      ['evil assertion before the signed one', 'acme-saml-entra'],
      ['evil assertion after the signed one', 'acme-saml-entra'],
      ['signed assertion wrapped inside the evil one', 'acme-saml-entra'],
      ['evil assertion takes the signed id, original hidden in ds:Object', 'acme-saml-entra'],
      ['evil response wraps the signed response', 'acme-saml'],
    ];
    for (const [variant, connectionId] of variants) {
      it(`signature wrapping: ${variant}`, async () => {
        const since = await auditMark();
        const attacker = newPerson('acme.test', 'attacker');
        const victim = newPerson('acme.test', 'victim');
        const { response } = await samlLoginWith(
          ctx,
          new Browser(),
          connectionId,
          { user: samlUser(attacker) },
          (xml) => wrapSignature(xml, variant, victim.subject, victim.email),
        );
        expectRefused(response, 'SAML_RESPONSE_INVALID');
        const where = { tenantId: 'acme', connectionId };
        await expectNothingCreated(ctx, victim, where, 'SAML_RESPONSE_INVALID', since);
        await expectNothingCreated(ctx, attacker, where, 'SAML_RESPONSE_INVALID', since);
      });
    }

    it('refuses an unsigned assertion inside a signed response', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        signAssertion: false,
        signResponse: true,
      });
      expectRefused(response, 'SAML_RESPONSE_INVALID');
      await expectNothingCreated(ctx, person, ACME, 'SAML_RESPONSE_INVALID', since);
    });

    it('refuses an assertion signed by another key', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        signingKey: OTHER_IDP_KEY,
      });
      expectRefused(response, 'SAML_RESPONSE_INVALID');
      await expectNothingCreated(ctx, person, ACME, 'SAML_RESPONSE_INVALID', since);
    });

    it('does not let a comment in the NameID and email reach another account', async () => {
      const victim = newPerson();
      const browser = new Browser();
      const first = await samlLogin(ctx, browser, 'acme-saml', samlUser(victim));
      const victimMe = await expectSignedIn(ctx, browser, first.response, victim.email);

      const since = await auditMark();
      // The IdP signs "<victim>.evil.test"; the attacker adds a comment after signing, which the
      // signature does not cover (exclusive c14n drops comments).
      const attacker = {
        key: 'x',
        subject: `${victim.subject}.evil.test`,
        email: `${victim.email}.evil.test`,
      };
      const { response } = await samlLoginWith(
        ctx,
        new Browser(),
        'acme-saml',
        { user: samlUser(attacker), nameIDXmlAfterSigning: `${victim.subject}<!---->.evil.test` },
        (xml) => xml.replace(`>${attacker.email}<`, `>${victim.email}<!---->.evil.test<`),
      );
      expectRefused(response, 'DOMAIN_NOT_ALLOWED');
      await expectDenialAudited(ctx, ACME, 'DOMAIN_NOT_ALLOWED', since);
      expect(await ctx.env.store.listIdentitiesOfUser(victimMe.user.id)).toHaveLength(1);
      expect(await ctx.env.store.findIdentity('acme-saml', attacker.subject)).toBeNull();
    });

    it('refuses an expired assertion', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        notBefore: new Date(Date.now() - 20 * MINUTE),
        notOnOrAfter: new Date(Date.now() - 10 * MINUTE),
      });
      expectRefused(response, 'SAML_RESPONSE_INVALID');
      await expectNothingCreated(ctx, person, ACME, 'SAML_RESPONSE_INVALID', since);
    });

    it('refuses an assertion that is not yet valid', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        notBefore: new Date(Date.now() + 10 * MINUTE),
        notOnOrAfter: new Date(Date.now() + 20 * MINUTE),
      });
      expectRefused(response, 'SAML_RESPONSE_INVALID');
      await expectNothingCreated(ctx, person, ACME, 'SAML_RESPONSE_INVALID', since);
    });

    it('refuses an assertion for another audience', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        audience: 'https://other-service.test/saml',
      });
      expectRefused(response, 'SAML_RESPONSE_INVALID');
      await expectNothingCreated(ctx, person, ACME, 'SAML_RESPONSE_INVALID', since);
    });

    it('refuses an assertion whose Recipient is another ACS URL', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        recipient: 'https://other-service.test/acs',
      });
      expectRefused(response, 'SAML_RECIPIENT_MISMATCH');
      await expectNothingCreated(ctx, person, ACME, 'SAML_RECIPIENT_MISMATCH', since);
    });

    it('refuses a response whose Destination is another ACS URL', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        destination: 'https://other-service.test/acs',
      });
      expectRefused(response, 'SAML_RECIPIENT_MISMATCH');
      await expectNothingCreated(ctx, person, ACME, 'SAML_RECIPIENT_MISMATCH', since);
    });

    it('refuses an assertion issued under another IdP entity id, even with the trusted key', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        issuer: ctx.env.saml.entityIdFor('someone-else'),
      });
      expectRefused(response, 'SAML_ISSUER_MISMATCH');
      await expectNothingCreated(ctx, person, ACME, 'SAML_ISSUER_MISMATCH', since);
    });

    it('refuses the replay of a consumed response', async () => {
      const person = newPerson();
      const first = await samlLogin(ctx, new Browser(), 'acme-saml', samlUser(person));
      expect(first.response.status).toBeLessThan(400);
      const since = await auditMark();
      const replay = await new Browser().post(first.request.acsUrl, first.posted, { json: true });
      expectRefused(replay, 'SAML_REPLAY');
      await expectDenialAudited(ctx, ACME, 'SAML_REPLAY', since);
      const user = await ctx.env.store.findUserByEmail('acme', person.email);
      const events = await ctx.env.store.listAuditEvents({ userId: user!.id, limit: 10 });
      expect(events.map((e) => e.action)).toEqual(['created']);
    });

    it('accepts only one of two copies of a response posted at the same moment', async () => {
      const person = newPerson();
      const browser = new Browser();
      const request = await startSamlLogin(ctx, browser, 'acme-saml');
      const xml = ctx.env.saml.createResponse({ request, user: samlUser(person) });
      const fields = { SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: request.relayState };
      const answers = await Promise.all([
        browser.post(request.acsUrl, fields, { json: true }),
        browser.post(request.acsUrl, fields, { json: true }),
      ]);
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses[0]).toBeLessThan(400);
      expectRefused(
        answers.find((a) => a.status >= 400)!,
        'SAML_REPLAY',
      );
      const user = await ctx.env.store.findUserByEmail('acme', person.email);
      expect(user).not.toBeNull();
      const events = await ctx.env.store.listAuditEvents({ userId: user!.id, limit: 10 });
      expect(events.map((e) => e.action)).toEqual(['created']);
    });

    it('refuses a response to a request this app never made (unknown InResponseTo)', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        inResponseTo: '_00000000000000000000000000000000',
      });
      expectRefused(response, 'SAML_REPLAY');
      await expectNothingCreated(ctx, person, ACME, 'SAML_REPLAY', since);
    });

    it('refuses an unsolicited (IdP-initiated) response on a connection that did not opt in', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        inResponseTo: null,
      });
      expectRefused(response, 'SAML_UNSOLICITED');
      await expectNothingCreated(ctx, person, ACME, 'SAML_UNSOLICITED', since);
    });

    it('refuses a SHA-1 signature unless the connection allows it', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person),
        algorithm: 'sha1',
      });
      expectRefused(response, 'SAML_WEAK_SIGNATURE');
      await expectNothingCreated(ctx, person, ACME, 'SAML_WEAK_SIGNATURE', since);

      const browser = new Browser();
      const allowed = await samlLoginWith(ctx, browser, 'acme-saml-sha1', {
        user: samlUser(person),
        algorithm: 'sha1',
      });
      await expectSignedIn(ctx, browser, allowed.response, person.email);
    });

    it('refuses XML with a DOCTYPE, even one whose entity is never used', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(
        ctx,
        new Browser(),
        'acme-saml',
        { user: samlUser(person) },
        (xml) => xml.replace('<samlp:Response', '<!DOCTYPE r [<!ENTITY unused "x">]><samlp:Response'),
      );
      expectRefused(response, 'SAML_DOCTYPE_FORBIDDEN');
      await expectNothingCreated(ctx, person, ACME, 'SAML_DOCTYPE_FORBIDDEN', since);
    });

    it('accepts an IdP-initiated login only where the connection opted in, once, to an allowed RelayState', async () => {
      const connectionId = 'acme-saml-idp-initiated';
      const where = { tenantId: 'acme', connectionId };
      const request = {
        id: '',
        acsUrl: `${ctx.baseUrl}/auth/saml/${connectionId}/acs`,
        spEntityId: `${ctx.baseUrl}/auth/saml/${connectionId}/metadata`,
        relayState: '/dashboard',
        idpEntityId: ctx.env.saml.entityIdFor(connectionId),
      };
      const person = newPerson();
      const unsolicited = (relayState: string) => ({
        SAMLResponse: Buffer.from(
          ctx.env.saml.createResponse({ request, user: samlUser(person), inResponseTo: null }),
        ).toString('base64'),
        RelayState: relayState,
      });
      let since = await auditMark();
      const elsewhere = await new Browser().post(request.acsUrl, unsolicited('https://evil.test/'), {
        json: true,
      });
      expectRefused(elsewhere, 'SAML_RESPONSE_INVALID');
      await expectNothingCreated(ctx, person, where, 'SAML_RESPONSE_INVALID', since);

      const browser = new Browser();
      const fields = unsolicited('/dashboard');
      await expectSignedIn(
        ctx,
        browser,
        await browser.post(request.acsUrl, fields, { json: true }),
        person.email,
      );
      since = await auditMark();
      expectRefused(await new Browser().post(request.acsUrl, fields, { json: true }), 'SAML_REPLAY');
      await expectDenialAudited(ctx, where, 'SAML_REPLAY', since);
    });

    it('refuses the replay of an IdP-initiated response after the replay cache lost its data', async () => {
      const connectionId = 'acme-saml-idp-initiated';
      const request = {
        id: '',
        acsUrl: `${ctx.baseUrl}/auth/saml/${connectionId}/acs`,
        spEntityId: `${ctx.baseUrl}/auth/saml/${connectionId}/metadata`,
        relayState: '/dashboard',
        idpEntityId: ctx.env.saml.entityIdFor(connectionId),
      };
      const person = newPerson();
      const fields = {
        SAMLResponse: Buffer.from(
          ctx.env.saml.createResponse({ request, user: samlUser(person), inResponseTo: null }),
        ).toString('base64'),
        RelayState: '/dashboard',
      };
      const browser = new Browser();
      await expectSignedIn(
        ctx,
        browser,
        await browser.post(request.acsUrl, fields, { json: true }),
        person.email,
      );
      // Redis restarted empty, was flushed or evicted the key: the store still remembers the assertion.
      await ctx.env.forgetReplayCache();
      const since = await auditMark();
      expectRefused(await new Browser().post(request.acsUrl, fields, { json: true }), 'SAML_REPLAY');
      await expectDenialAudited(ctx, { tenantId: 'acme', connectionId }, 'SAML_REPLAY', since);
    });

    it('refuses a transient NameID as a subject', async () => {
      const since = await auditMark();
      const person = newPerson();
      const { response } = await samlLoginWith(ctx, new Browser(), 'acme-saml', {
        user: samlUser(person, {}, NAMEID_TRANSIENT),
      });
      expectRefused(response, 'TRANSIENT_SUBJECT');
      await expectNothingCreated(ctx, person, ACME, 'TRANSIENT_SUBJECT', since);
    });
  });
}
