import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

export const IDP_KEY = { key: fixture('idp-key.pem'), cert: fixture('idp-cert.pem') };
export const OTHER_IDP_KEY = { key: fixture('other-idp-key.pem'), cert: fixture('other-idp-cert.pem') };
export const SP_KEY = { key: fixture('sp-key.pem'), cert: fixture('sp-cert.pem') };

export const NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
export const NAMEID_TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

export interface SamlIdpUser {
  nameID: string;
  nameIDFormat?: string;
  attributes: Record<string, string | string[]>;
}

/** What the IdP read from the SP's AuthnRequest. */
export interface AuthnRequestInfo {
  id: string;
  acsUrl: string;
  spEntityId: string;
  relayState: string;
  /** The IdP entity id the request was sent to (one per connection: `/sso/<name>`). */
  idpEntityId: string;
}

export interface SamlResponseOptions {
  request: AuthnRequestInfo;
  user: SamlIdpUser;
  /** Response and assertion Issuer (default the entity id the request was sent to). */
  issuer?: string;
  audience?: string;
  recipient?: string;
  /** `null` leaves Destination out. */
  destination?: string | null;
  /** `null` leaves InResponseTo out (an unsolicited response). */
  inResponseTo?: string | null;
  notBefore?: Date;
  notOnOrAfter?: Date;
  signAssertion?: boolean;
  signResponse?: boolean;
  algorithm?: 'sha256' | 'sha1';
  signingKey?: { key: string; cert: string };
  /** Raw XML for the NameID element's content (e.g. with a comment inside). Applied after signing. */
  nameIDXmlAfterSigning?: string;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const id = () => `_${randomBytes(16).toString('hex')}`;
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const ASSERTION = "/*[local-name(.)='Response']/*[local-name(.)='Assertion']";
const RESPONSE = "/*[local-name(.)='Response']";

function sign(
  xml: string,
  reference: string,
  key: { key: string; cert: string },
  algorithm: 'sha256' | 'sha1',
): string {
  const signer = new SignedXml({
    privateKey: key.key,
    publicCert: key.cert,
    signatureAlgorithm:
      algorithm === 'sha1'
        ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'
        : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  signer.addReference({
    xpath: reference,
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
    digestAlgorithm:
      algorithm === 'sha1'
        ? 'http://www.w3.org/2000/09/xmldsig#sha1'
        : 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `${reference}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return signer.getSignedXml();
}

/**
 * A SAML identity provider for tests: it reads real AuthnRequests (HTTP-Redirect), shows a login
 * form, and answers with a signed Response posted by an auto-submitting form, as a browser sees it.
 * Every field of the response can be set by a test, to build the attacks.
 */
export class TestSamlIdp {
  private server: Server | null = null;
  baseUrl = '';
  readonly users = new Map<string, SamlIdpUser>();

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', this.baseUrl);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const sso = /^\/sso\/([\w.-]+)$/.exec(url.pathname);
          if (req.method === 'GET' && sso) {
            // The login page: the request travels on in hidden fields.
            const fields = {
              SAMLRequest: url.searchParams.get('SAMLRequest') ?? '',
              RelayState: url.searchParams.get('RelayState') ?? '',
            };
            res.setHeader('content-type', 'text/html');
            res.end(
              `<form method="post" action="${esc(`${this.baseUrl}/sso/${sso[1]}/login`)}">` +
                Object.entries(fields)
                  .map(([k, v]) => `<input type="hidden" name="${k}" value="${esc(v)}">`)
                  .join('') +
                '<input name="user"><button>Sign in</button></form>',
            );
            return;
          }
          const login = /^\/sso\/([\w.-]+)\/login$/.exec(url.pathname);
          if (req.method === 'POST' && login) {
            const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
            const request = this.readRequest(
              login[1]!,
              form.get('SAMLRequest') ?? '',
              form.get('RelayState') ?? '',
            );
            const user = this.users.get(form.get('user') ?? '');
            if (!user) {
              res.statusCode = 401;
              res.end('unknown user');
              return;
            }
            res.setHeader('content-type', 'text/html');
            res.end(this.postForm(request, this.createResponse({ request, user })));
            return;
          }
          res.statusCode = 404;
          res.end();
        } catch (error) {
          res.statusCode = 400;
          res.end(String(error));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    this.baseUrl = `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  entityIdFor(name: string): string {
    return `${this.baseUrl}/metadata/${name}`;
  }

  ssoUrlFor(name: string): string {
    return `${this.baseUrl}/sso/${name}`;
  }

  /** Decodes an HTTP-Redirect AuthnRequest (the `SAMLRequest` query parameter). */
  readRequest(name: string, encoded: string, relayState = ''): AuthnRequestInfo {
    const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const root = doc.documentElement!;
    const issuer =
      root.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Issuer')[0]?.textContent ?? '';
    return {
      id: root.getAttribute('ID') ?? '',
      acsUrl: root.getAttribute('AssertionConsumerServiceURL') ?? '',
      spEntityId: issuer.trim(),
      relayState,
      idpEntityId: this.entityIdFor(name),
    };
  }

  /** The request the SP's login redirect carries (`Location` of `GET .../login`). */
  requestFromRedirect(location: string): AuthnRequestInfo {
    const url = new URL(location);
    const name = /^\/sso\/([\w.-]+)$/.exec(url.pathname)?.[1];
    if (!name) throw new Error(`not an SSO URL of this IdP: ${location}`);
    return this.readRequest(
      name,
      url.searchParams.get('SAMLRequest') ?? '',
      url.searchParams.get('RelayState') ?? '',
    );
  }

  createResponse(options: SamlResponseOptions): string {
    const now = Date.now();
    const { request, user } = options;
    const issuer = options.issuer ?? request.idpEntityId;
    const inResponseTo = options.inResponseTo === undefined ? request.id : options.inResponseTo;
    const destination = options.destination === undefined ? request.acsUrl : options.destination;
    const notBefore = iso(options.notBefore ?? new Date(now - 60_000));
    const notOnOrAfter = iso(options.notOnOrAfter ?? new Date(now + 5 * 60_000));
    const irt = inResponseTo ? ` InResponseTo="${esc(inResponseTo)}"` : '';
    const attributes = Object.entries(user.attributes)
      .map(
        ([name, value]) =>
          `<saml:Attribute Name="${esc(name)}">` +
          (Array.isArray(value) ? value : [value])
            .map((v) => `<saml:AttributeValue>${esc(v)}</saml:AttributeValue>`)
            .join('') +
          '</saml:Attribute>',
      )
      .join('');
    const assertionId = id();
    let xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id()}" Version="2.0" IssueInstant="${iso(new Date(now))}"` +
      (destination ? ` Destination="${esc(destination)}"` : '') +
      `${irt}><saml:Issuer>${esc(issuer)}</saml:Issuer>` +
      '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
      `<saml:Assertion ID="${assertionId}" Version="2.0" IssueInstant="${iso(new Date(now))}"><saml:Issuer>${esc(issuer)}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="${esc(user.nameIDFormat ?? NAMEID_PERSISTENT)}">${esc(user.nameID)}</saml:NameID>` +
      '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
      `<saml:SubjectConfirmationData NotOnOrAfter="${notOnOrAfter}" Recipient="${esc(options.recipient ?? request.acsUrl)}"${irt}/>` +
      '</saml:SubjectConfirmation></saml:Subject>' +
      `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}">` +
      `<saml:AudienceRestriction><saml:Audience>${esc(options.audience ?? request.spEntityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${iso(new Date(now))}" SessionIndex="${id()}"><saml:AuthnContext>` +
      '<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>' +
      `</saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion></samlp:Response>`;
    const key = options.signingKey ?? IDP_KEY;
    const algorithm = options.algorithm ?? 'sha256';
    if (options.signAssertion ?? true) xml = sign(xml, ASSERTION, key, algorithm);
    if (options.signResponse ?? true) xml = sign(xml, RESPONSE, key, algorithm);
    if (options.nameIDXmlAfterSigning !== undefined) {
      xml = xml.replace(/(<saml:NameID[^>]*>)[^<]*(<\/saml:NameID>)/, `$1${options.nameIDXmlAfterSigning}$2`);
    }
    return xml;
  }

  /** The page a browser receives: a form that posts the response to the ACS. */
  postForm(request: AuthnRequestInfo, xml: string): string {
    return (
      `<form method="post" action="${esc(request.acsUrl)}">` +
      `<input type="hidden" name="SAMLResponse" value="${esc(Buffer.from(xml).toString('base64'))}">` +
      `<input type="hidden" name="RelayState" value="${esc(request.relayState)}">` +
      '</form><script>document.forms[0].submit()</script>'
    );
  }
}

export const encodeResponse = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');
