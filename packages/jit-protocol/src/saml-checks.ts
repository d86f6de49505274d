import { DOMParser } from '@xmldom/xmldom';
import { JitError } from '@jit-sso/core';
import { refuseDoctype } from './doctype.js';

const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const SHA1 = /(^|[#-])sha1$/i;

/** What the connection expects of a verified assertion, beyond what node-saml checks. */
export interface SamlExpectations {
  /** The IdP entity id: the assertion's Issuer must equal it. */
  readonly idpEntityId: string;
  /** This connection's ACS URL: SubjectConfirmationData Recipient and the response's Destination must equal it. */
  readonly acsUrl: string;
  /** Accept RSA-SHA1 signatures and SHA-1 digests (default false). */
  readonly allowSha1?: boolean;
}

/** Facts read from the verified assertion, for replay protection. */
export interface CheckedAssertion {
  readonly issuer: string;
  readonly assertionId: string;
  /** The latest NotOnOrAfter of the assertion's conditions and bearer confirmations. */
  readonly notOnOrAfter: Date | null;
  readonly inResponseTo: string | null;
}

/** The XML node-saml validated, as its profile exposes it (`getAssertionXml`, `getSamlResponseXml`). */
export interface VerifiedSamlXml {
  getAssertionXml?(): string;
  getSamlResponseXml?(): string;
}

interface XmlElement {
  localName: string | null;
  namespaceURI: string | null;
  textContent: string | null;
  childNodes: ArrayLike<unknown>;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
}

function invalid(message: string, cause?: unknown): JitError {
  return new JitError('SAML_RESPONSE_INVALID', message, cause === undefined ? {} : { cause });
}

function parse(xml: string, what: string): XmlElement {
  refuseDoctype(xml);
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (m: string) => errors.push(m),
      fatalError: (m: string) => errors.push(m),
    },
  }).parseFromString(xml, 'text/xml');
  const root = doc?.documentElement as unknown as XmlElement | null;
  if (errors.length || !root) throw invalid(`The ${what} is not well-formed XML.`, errors.join('; '));
  return root;
}

function children(parent: XmlElement, ns: string, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (let i = 0; i < parent.childNodes.length; i++) {
    const node = parent.childNodes[i] as XmlElement & { nodeType: number };
    if (node.nodeType === 1 && node.localName === name && node.namespaceURI === ns) out.push(node);
  }
  return out;
}

function weakAlgorithms(root: XmlElement): string[] {
  const weak: string[] = [];
  for (const signature of children(root, DSIG, 'Signature')) {
    for (const signedInfo of children(signature, DSIG, 'SignedInfo')) {
      const algorithms = [
        ...children(signedInfo, DSIG, 'SignatureMethod'),
        ...children(signedInfo, DSIG, 'Reference').flatMap((r) => children(r, DSIG, 'DigestMethod')),
      ].map((e) => e.getAttribute('Algorithm') ?? '');
      weak.push(...algorithms.filter((a) => SHA1.test(a)));
    }
  }
  return weak;
}

function latest(dates: (string | null)[]): Date | null {
  const times = dates
    .filter((d): d is string => !!d)
    .map((d) => Date.parse(d))
    .filter((t) => Number.isFinite(t));
  return times.length ? new Date(Math.max(...times)) : null;
}

/**
 * The checks node-saml 5.1 leaves to the application, made on the XML it verified: the Issuer is the
 * connection's IdP, the bearer confirmation's Recipient (and the response's Destination, when present)
 * is this connection's ACS URL, and no signature uses SHA-1 unless the connection allows it.
 * Throws `SAML_ISSUER_MISMATCH`, `SAML_RECIPIENT_MISMATCH`, `SAML_WEAK_SIGNATURE` or `SAML_RESPONSE_INVALID`.
 */
export function checkSamlAssertion(verified: VerifiedSamlXml, expect: SamlExpectations): CheckedAssertion {
  const assertionXml = verified.getAssertionXml?.();
  if (!assertionXml) throw invalid('The SAML response carries no verified assertion.');
  const assertion = parse(assertionXml, 'assertion');
  if (assertion.localName !== 'Assertion' || assertion.namespaceURI !== SAML) {
    throw invalid('The verified element is not a SAML assertion.');
  }
  const responseXml = verified.getSamlResponseXml?.();
  const response = responseXml ? parse(responseXml, 'response') : null;

  const issuer = children(assertion, SAML, 'Issuer')[0]?.textContent?.trim() ?? '';
  const responseIssuer = response ? children(response, SAML, 'Issuer')[0]?.textContent?.trim() : undefined;
  for (const received of [issuer, responseIssuer]) {
    if (received !== undefined && received !== expect.idpEntityId) {
      throw new JitError(
        'SAML_ISSUER_MISMATCH',
        `The assertion was issued by "${received}", but this connection trusts "${expect.idpEntityId}".`,
        { details: { expected: expect.idpEntityId, received } },
      );
    }
  }

  const bearer = children(assertion, SAML, 'Subject')
    .flatMap((s) => children(s, SAML, 'SubjectConfirmation'))
    .filter((c) => c.getAttribute('Method') === BEARER)
    .flatMap((c) => children(c, SAML, 'SubjectConfirmationData'));
  const recipients = bearer.map((d) => d.getAttribute('Recipient') ?? '');
  if (recipients.length === 0 || recipients.some((r) => r !== expect.acsUrl)) {
    throw new JitError(
      'SAML_RECIPIENT_MISMATCH',
      `The assertion is addressed to another service (Recipient), not to this connection's ACS URL "${expect.acsUrl}".`,
      { details: { expected: expect.acsUrl } },
    );
  }
  if (response?.hasAttribute('Destination') && response.getAttribute('Destination') !== expect.acsUrl) {
    throw new JitError(
      'SAML_RECIPIENT_MISMATCH',
      `The response is addressed to another service (Destination), not to this connection's ACS URL "${expect.acsUrl}".`,
      { details: { expected: expect.acsUrl } },
    );
  }

  if (!expect.allowSha1) {
    const weak = [...weakAlgorithms(assertion), ...(response ? weakAlgorithms(response) : [])];
    if (weak.length) {
      throw new JitError(
        'SAML_WEAK_SIGNATURE',
        'The SAML response is signed with SHA-1, which this connection does not accept.',
        {
          details: { algorithms: [...new Set(weak)] },
        },
      );
    }
  }

  const assertionId = assertion.getAttribute('ID') ?? '';
  if (!assertionId) throw invalid('The assertion has no ID.');
  const conditions = children(assertion, SAML, 'Conditions');
  return {
    issuer,
    assertionId,
    notOnOrAfter: latest([
      ...conditions.map((c) => c.getAttribute('NotOnOrAfter')),
      ...bearer.map((d) => d.getAttribute('NotOnOrAfter')),
    ]),
    inResponseTo: response?.getAttribute('InResponseTo') || null,
  };
}
