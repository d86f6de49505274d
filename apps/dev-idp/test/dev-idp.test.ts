import { deflateRawSync } from 'node:zlib';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIdp, type DevIdp } from '../src/index.js';

const APP = 'http://localhost:1';
const REDIRECT_URI = `${APP}/auth/oidc/acme-oidc/callback`;
const SP_ENTITY_ID = `${APP}/auth/saml/acme-saml/metadata`;
const ACS_URL = `${APP}/auth/saml/acme-saml/acs`;

/** A browser stand-in: keeps cookies per origin and follows redirects by hand. */
class Browser {
  readonly #cookies = new Map<string, Map<string, string>>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const origin = new URL(url).origin;
    const jar = this.#cookies.get(origin) ?? new Map<string, string>();
    this.#cookies.set(origin, jar);
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  }

  /** Follows redirects until a page (2xx/4xx) or a redirect that leaves `stayOn`. */
  async follow(url: string, stayOn: string, init: RequestInit = {}): Promise<{ url: string; res: Response }> {
    let res = await this.fetch(url, init);
    let current = url;
    while (res.status >= 300 && res.status < 400) {
      current = new URL(res.headers.get('location')!, current).href;
      if (!current.startsWith(stayOn)) return { url: current, res };
      res = await this.fetch(current);
    }
    return { url: current, res };
  }

  post(url: string, form: Record<string, string>): Promise<{ url: string; res: Response }> {
    return this.follow(url, new URL(url).origin, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }
}

function formAction(pageHtml: string, person: string): string {
  const form = [...pageHtml.matchAll(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/g)].find((m) =>
    m[2]!.includes(`value="${person}"`),
  );
  if (!form) throw new Error(`no sign-in button for ${person}`);
  return form[1]!.replace(/&amp;/g, '&');
}

function hiddenFields(pageHtml: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of pageHtml.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)) {
    fields[m[1]!] = m[2]!
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  }
  return fields;
}

let idp: DevIdp;

beforeAll(async () => {
  idp = await startDevIdp({
    oidcClients: [{ clientId: 'sample-app', clientSecret: 'dev-secret', redirectUris: [REDIRECT_URI] }],
    samlServiceProviders: [{ entityId: SP_ENTITY_ID, acsUrls: [ACS_URL] }],
  });
});

afterAll(async () => {
  await idp?.close();
});

describe('OIDC identity provider', () => {
  async function signIn(browser: Browser, person: string) {
    const config = await client.discovery(new URL(idp.oidc.issuer), 'sample-app', 'dev-secret', undefined, {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile groups',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const picker = await browser.follow(authUrl.href, idp.url);
    expect(picker.res.status).toBe(200);
    const pageHtml = await picker.res.text();
    const done = await browser.post(new URL(formAction(pageHtml, person), idp.url).href, { person });
    return { config, verifier, state, nonce, done, pageHtml };
  }

  it('shows the person picker and puts email, email_verified and groups in the ID token', async () => {
    const browser = new Browser();
    const { config, verifier, state, nonce, done, pageHtml } = await signIn(browser, 'u1001');
    expect(pageHtml).toContain('Sign in as Alice');
    expect(pageHtml).toContain('email not verified'); // Dave's tag
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await client.authorizationCodeGrant(config, new URL(done.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: idp.oidc.issuer,
      sub: 'u1001',
      email: 'alice@acme.test',
      email_verified: true,
      groups: ['acme-admins', 'acme-staff'],
      given_name: 'Alice',
    });
  });

  it('asks who you are again at the next authorization, and reflects a group change made at the admin page', async () => {
    const browser = new Browser();
    await signIn(browser, 'u1002');
    const admin = await browser.post(`${idp.url}/admin/people/u1002`, {
      groups: 'acme-admins',
      active: 'true',
    });
    expect(admin.res.status).toBe(200);
    expect(await admin.res.text()).toContain('Saved Bob Member');
    try {
      const again = await signIn(browser, 'u1002'); // same browser, same IdP session
      expect(again.pageHtml).toContain('Sign in as Bob');
      const tokens = await client.authorizationCodeGrant(again.config, new URL(again.done.url), {
        pkceCodeVerifier: again.verifier,
        expectedState: again.state,
        expectedNonce: again.nonce,
      });
      expect(tokens.claims()!['groups']).toEqual(['acme-admins']);
    } finally {
      idp.people.update('u1002', { groups: ['acme-staff'] });
    }
  });

  it('says email_verified false for the person whose email is not verified', async () => {
    const { config, verifier, state, nonce, done } = await signIn(new Browser(), 'u1005');
    const tokens = await client.authorizationCodeGrant(config, new URL(done.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect(tokens.claims()).toMatchObject({ email: 'dave@acme.test', email_verified: false });
  });

  it('refuses a person deactivated at the admin page', async () => {
    idp.people.update('u1003', { active: false });
    try {
      const browser = new Browser();
      const { done, pageHtml } = await signIn(browser, 'u1003');
      expect(pageHtml).toMatch(/value="u1003"\s+disabled/);
      expect(done.res.status).toBe(403);
      expect(await done.res.text()).toContain('Erin Nogroup is deactivated at the identity provider');
    } finally {
      idp.people.update('u1003', { active: true });
    }
  });

  it('refuses a redirect URI that is not registered', async () => {
    const res = await fetch(
      `${idp.oidc.issuer}/auth?client_id=sample-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('http://evil.test/cb')}`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('invalid_redirect_uri');
  });
});

describe('SAML identity provider', () => {
  const sp = () =>
    new SAML({
      entryPoint: idp.saml.ssoUrl,
      issuer: SP_ENTITY_ID,
      callbackUrl: ACS_URL,
      idpCert: idp.saml.certificate,
      idpIssuer: idp.saml.entityId,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      validateInResponseTo: ValidateInResponseTo.always,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
    });

  async function signIn(saml: SAML, person: string, relayState = 'back-to-profile') {
    const browser = new Browser();
    const redirect = await saml.getAuthorizeUrlAsync(relayState, undefined, {});
    const picker = await browser.follow(redirect, idp.url);
    expect(picker.res.status).toBe(200);
    const pageHtml = await picker.res.text();
    const posted = await browser.post(`${idp.url}/saml/sso/pick`, { ...hiddenFields(pageHtml), person });
    return { posted, pageHtml, body: await posted.res.text() };
  }

  it('answers an HTTP-Redirect AuthnRequest with a signed response that node-saml accepts', async () => {
    const saml = sp();
    const { body, pageHtml } = await signIn(saml, 'u1001');
    expect(pageHtml).toContain('Sign in as Alice');
    expect(body).toContain(`action="${ACS_URL}"`);
    const fields = hiddenFields(body);
    expect(fields['RelayState']).toBe('back-to-profile');
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: fields['SAMLResponse']! });
    expect(profile).toMatchObject({
      issuer: idp.saml.entityId,
      nameID: 'u1001',
      nameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      email: 'alice@acme.test',
      groups: ['acme-admins', 'acme-staff'],
    });
    const xml = Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8');
    expect(xml).toContain(`Recipient="${ACS_URL}"`);
    expect(xml).toContain('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(xml).not.toContain('rsa-sha1');
  });

  it('sends one group as a single value and no groups attribute for a person in no group', async () => {
    const saml = sp();
    const bob = hiddenFields((await signIn(saml, 'u1002')).body);
    expect(
      (await saml.validatePostResponseAsync({ SAMLResponse: bob['SAMLResponse']! })).profile,
    ).toMatchObject({
      nameID: 'u1002',
      groups: 'acme-staff',
    });
    const erin = hiddenFields((await signIn(saml, 'u1003')).body);
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: erin['SAMLResponse']! });
    expect(profile?.['groups']).toBeUndefined();
  });

  it('refuses an AuthnRequest from an unregistered service provider', async () => {
    const saml = new SAML({
      entryPoint: idp.saml.ssoUrl,
      issuer: 'http://evil.test/sp',
      callbackUrl: 'http://evil.test/acs',
      idpCert: idp.saml.certificate,
    });
    const res = await fetch(await saml.getAuthorizeUrlAsync('', undefined, {}), { redirect: 'manual' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Unknown service provider');
  });

  it('refuses an ACS URL the service provider did not register', async () => {
    const saml = new SAML({
      entryPoint: idp.saml.ssoUrl,
      issuer: SP_ENTITY_ID,
      callbackUrl: 'http://evil.test/acs',
      idpCert: idp.saml.certificate,
    });
    const res = await fetch(await saml.getAuthorizeUrlAsync('', undefined, {}), { redirect: 'manual' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('is not registered');
  });

  it('refuses a request with a DOCTYPE', async () => {
    const xml = `<!DOCTYPE x [<!ENTITY e "x">]><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${SP_ENTITY_ID}</saml:Issuer></samlp:AuthnRequest>`;
    const encoded = deflateRawSync(Buffer.from(xml)).toString('base64');
    const res = await fetch(`${idp.saml.ssoUrl}?SAMLRequest=${encodeURIComponent(encoded)}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('DOCTYPE');
  });

  it('refuses a deactivated person and a pick without a pending request', async () => {
    idp.people.update('u1002', { active: false });
    try {
      const { posted, body } = await signIn(sp(), 'u1002');
      expect(posted.res.status).toBe(403);
      expect(body).toContain('Bob Member is deactivated');
    } finally {
      idp.people.update('u1002', { active: true });
    }
    const stale = await new Browser().post(`${idp.url}/saml/sso/pick`, { request: 'nope', person: 'u1001' });
    expect(stale.res.status).toBe(400);
  });

  it('publishes metadata with the signing certificate', async () => {
    const res = await fetch(idp.saml.metadataUrl);
    const xml = await res.text();
    expect(xml).toContain(`entityID="${idp.saml.entityId}"`);
    const body = idp.saml.certificate.replace(/-----[^-]+-----|\s/g, '');
    expect(xml.replace(/\s/g, '')).toContain(body);
  });
});

describe('people admin page', () => {
  it('lists the people and saves groups and status from the form', async () => {
    const browser = new Browser();
    const list = await (await browser.fetch(`${idp.url}/admin`)).text();
    expect(list).toContain('alice@acme.test');
    expect(list).toContain('carol@contractor.test');
    const saved = await browser.post(`${idp.url}/admin/people/u1004`, { groups: 'acme-staff, vendors' });
    expect(saved.url).toBe(`${idp.url}/admin?saved=u1004`);
    expect(idp.people.get('u1004')).toMatchObject({ groups: ['acme-staff', 'vendors'], active: false });
    idp.people.update('u1004', { groups: ['acme-staff'], active: true });
    const missing = await browser.post(`${idp.url}/admin/people/nobody`, { active: 'true' });
    expect(missing.res.status).toBe(404);
  });

  it('escapes what it shows', async () => {
    const other = await startDevIdp({
      people: [
        {
          id: 'x',
          email: 'x@acme.test',
          emailVerified: true,
          givenName: '<script>',
          familyName: 'X',
          groups: ['<b>'],
        },
      ],
    });
    try {
      const page = await (await fetch(`${other.url}/admin`)).text();
      expect(page).not.toContain('<script>');
      expect(page).toContain('&lt;script&gt;');
      expect(page).not.toContain('<b>');
    } finally {
      await other.close();
    }
  });
});
