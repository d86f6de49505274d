import { randomBytes, randomUUID } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import express, { type Router } from 'express';
import * as samlify from 'samlify';
import { displayName, type PeopleDirectory, type TestPerson } from './people.js';
import { escapeHtml, html, page } from './html.js';
import { pickerPage, refusalPage } from './picker.js';

export interface SamlServiceProvider {
  /** The SP's entity id: the AuthnRequest's Issuer and the assertion's Audience. */
  entityId: string;
  /** The ACS URLs the SP may ask for; the first is used when the request names none. */
  acsUrls: string[];
}

export interface SamlIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly metadataUrl: string;
  /** The signing certificate (PEM) that service providers pin. */
  readonly certificate: string;
  readonly router: Router;
  /** Registers (or replaces) a service provider at run time, as an IdP administrator adds an app. */
  register(sp: SamlServiceProvider): void;
}

const NS_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const PENDING_TTL_MS = 10 * 60_000;

/** What the AuthnRequest asked for, kept while the person picks who they are. */
interface PendingRequest {
  requestId: string;
  sp: SamlServiceProvider;
  acsUrl: string;
  relayState: string | undefined;
  expires: number;
}

export class AuthnRequestError extends Error {}

/** Decodes and reads an HTTP-Redirect AuthnRequest (deflated, base64). */
export function readAuthnRequest(samlRequest: string): { id: string; issuer: string; acsUrl: string | null } {
  let xml: string;
  try {
    xml = inflateRawSync(Buffer.from(samlRequest, 'base64'), { maxOutputLength: 64 * 1024 }).toString('utf8');
  } catch {
    throw new AuthnRequestError(
      'SAMLRequest is not a deflated, base64-encoded message (HTTP-Redirect binding).',
    );
  }
  if (/<!DOCTYPE/i.test(xml)) throw new AuthnRequestError('SAMLRequest may not contain a DOCTYPE.');
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: { error: (m: string) => errors.push(m), fatalError: (m: string) => errors.push(m) },
  }).parseFromString(xml, 'text/xml');
  const root = doc.documentElement;
  if (errors.length || !root || root.localName !== 'AuthnRequest' || root.namespaceURI !== NS_PROTOCOL) {
    throw new AuthnRequestError('SAMLRequest is not an AuthnRequest.');
  }
  const issuer = root.getElementsByTagNameNS(NS_ASSERTION, 'Issuer')[0]?.textContent?.trim() ?? '';
  const id = root.getAttribute('ID') ?? '';
  if (!issuer || !id) throw new AuthnRequestError('The AuthnRequest has no Issuer or no ID.');
  return { id, issuer, acsUrl: root.getAttribute('AssertionConsumerServiceURL') || null };
}

function xmlText(value: string): string {
  return escapeHtml(value);
}

function attribute(name: string, values: readonly string[]): string {
  return (
    `<saml:Attribute Name="${xmlText(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">` +
    values
      .map((v) => `<saml:AttributeValue xsi:type="xs:string">${xmlText(v)}</saml:AttributeValue>`)
      .join('') +
    '</saml:Attribute>'
  );
}

/** The unsigned Response for a person; samlify signs the assertion and then the response. */
function responseXml(options: {
  idpEntityId: string;
  pending: PendingRequest;
  person: TestPerson;
  now: Date;
}): string {
  const { pending, person, now } = options;
  const issued = now.toISOString();
  const expires = new Date(now.getTime() + 5 * 60_000).toISOString();
  const issuer = `<saml:Issuer>${xmlText(options.idpEntityId)}</saml:Issuer>`;
  const attributes = [
    attribute('email', [person.email]),
    attribute('firstName', [person.givenName]),
    attribute('lastName', [person.familyName]),
    attribute('displayName', [displayName(person)]),
    person.groups.length ? attribute('groups', person.groups) : '',
  ].join('');
  return (
    `<samlp:Response xmlns:samlp="${NS_PROTOCOL}" xmlns:saml="${NS_ASSERTION}" ID="_${randomUUID()}" Version="2.0" ` +
    `IssueInstant="${issued}" Destination="${xmlText(pending.acsUrl)}" InResponseTo="${xmlText(pending.requestId)}">` +
    issuer +
    '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
    `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ` +
    `ID="_${randomUUID()}" Version="2.0" IssueInstant="${issued}">` +
    issuer +
    `<saml:Subject><saml:NameID Format="${NAMEID_PERSISTENT}">${xmlText(person.id)}</saml:NameID>` +
    '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
    `<saml:SubjectConfirmationData NotOnOrAfter="${expires}" Recipient="${xmlText(pending.acsUrl)}" ` +
    `InResponseTo="${xmlText(pending.requestId)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${issued}" NotOnOrAfter="${expires}"><saml:AudienceRestriction>` +
    `<saml:Audience>${xmlText(pending.sp.entityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${issued}" SessionIndex="_${randomBytes(8).toString('hex')}">` +
    '<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified' +
    '</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>' +
    `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` +
    '</saml:Assertion></samlp:Response>'
  );
}

/** The page that carries the signed response to the app's ACS (HTTP-POST binding). */
function autoPostPage(acsUrl: string, fields: Record<string, string>): string {
  return page(
    'Signing in',
    html`<form method="post" action="${acsUrl}" id="saml-post">
        ${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)}
        <p>Returning to the application…</p>
        <noscript><button>Continue</button></noscript>
      </form>
      <script>
        document.getElementById('saml-post').submit();
      </script>`,
  );
}

export function createSamlIdp(options: {
  baseUrl: string;
  people: PeopleDirectory;
  serviceProviders: readonly SamlServiceProvider[];
  privateKey: string;
  certificate: string;
}): SamlIdp {
  const { people } = options;
  const entityId = `${options.baseUrl}/saml/metadata`;
  const ssoUrl = `${options.baseUrl}/saml/sso`;
  const idp = samlify.IdentityProvider({
    entityID: entityId,
    privateKey: options.privateKey,
    signingCert: options.certificate,
    nameIDFormat: [NAMEID_PERSISTENT],
    wantAuthnRequestsSigned: false,
    singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: ssoUrl }],
  });
  const entry = (sp: SamlServiceProvider) => ({
    sp,
    entity: samlify.ServiceProvider({
      entityID: sp.entityId,
      wantAssertionsSigned: true,
      wantMessageSigned: true,
      assertionConsumerService: sp.acsUrls.map((url) => ({
        Binding: samlify.Constants.namespace.binding.post,
        Location: url,
      })),
    }),
  });
  const spEntities = new Map(options.serviceProviders.map((sp) => [sp.entityId, entry(sp)]));
  const pending = new Map<string, PendingRequest>();

  const router = express.Router();
  router.get('/metadata', (_req, res) => {
    res.type('application/samlmetadata+xml').send(idp.getMetadata());
  });

  router.get('/sso', (req, res) => {
    const samlRequest = typeof req.query['SAMLRequest'] === 'string' ? req.query['SAMLRequest'] : '';
    const relayState = typeof req.query['RelayState'] === 'string' ? req.query['RelayState'] : undefined;
    let request: ReturnType<typeof readAuthnRequest>;
    try {
      request = readAuthnRequest(samlRequest);
    } catch (error) {
      res
        .status(400)
        .type('html')
        .send(errorPage((error as Error).message));
      return;
    }
    const known = spEntities.get(request.issuer);
    if (!known) {
      res
        .status(403)
        .type('html')
        .send(errorPage(`Unknown service provider "${request.issuer}".`));
      return;
    }
    const acsUrl = request.acsUrl ?? known.sp.acsUrls[0]!;
    if (!known.sp.acsUrls.includes(acsUrl)) {
      res
        .status(403)
        .type('html')
        .send(errorPage(`The ACS URL "${acsUrl}" is not registered for "${request.issuer}".`));
      return;
    }
    const now = Date.now();
    for (const [key, entry] of pending) if (entry.expires < now) pending.delete(key);
    const key = randomBytes(16).toString('base64url');
    pending.set(key, {
      requestId: request.id,
      sp: known.sp,
      acsUrl,
      relayState,
      expires: now + PENDING_TTL_MS,
    });
    res.type('html').send(
      pickerPage({
        protocol: 'SAML',
        app: request.issuer,
        action: '/saml/sso/pick',
        hidden: { request: key },
        people: people.list(),
      }),
    );
  });

  router.post('/sso/pick', express.urlencoded({ extended: false }), async (req, res, next) => {
    try {
      const key = String(req.body?.request ?? '');
      const request = pending.get(key);
      if (!request || request.expires < Date.now()) {
        res
          .status(400)
          .type('html')
          .send(errorPage('This sign-in has expired; start again from the application.'));
        return;
      }
      const person = people.get(String(req.body?.person ?? ''));
      if (!person || !person.active) {
        res.status(403).type('html').send(refusalPage(person));
        return;
      }
      pending.delete(key);
      const sp = spEntities.get(request.sp.entityId)!.entity;
      const xml = responseXml({ idpEntityId: entityId, pending: request, person, now: new Date() });
      const signed = await idp.createLoginResponse(
        sp,
        { extract: { request: { id: request.requestId } } },
        'post',
        {},
        { customTagReplacement: () => ({ id: '', context: xml }) },
      );
      const fields: Record<string, string> = { SAMLResponse: signed.context };
      if (request.relayState !== undefined) fields['RelayState'] = request.relayState;
      res.type('html').send(autoPostPage(request.acsUrl, fields));
    } catch (error) {
      next(error);
    }
  });

  return {
    entityId,
    ssoUrl,
    metadataUrl: entityId,
    certificate: options.certificate,
    router,
    register: (sp) => void spEntities.set(sp.entityId, entry(sp)),
  };
}

function errorPage(message: string): string {
  return page(
    'Error',
    html`<div class="card">
      <h1 class="bad">SAML request refused</h1>
      <p>${message}</p>
    </div>`,
  );
}
