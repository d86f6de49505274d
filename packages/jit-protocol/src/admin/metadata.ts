import { X509Certificate } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import xpath from 'xpath';
import type { PresetName } from '@jit-sso/core';
import { AdminError } from './errors.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const select = xpath.useNamespaces({ md: MD, ds: DS });
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

export interface SigningCertificate {
  /** PEM, as the SAML adapters take it. */
  readonly pem: string;
  readonly subject: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly fingerprint256: string;
}

export interface SamlIdpMetadata {
  readonly entityId: string;
  /** The SingleSignOnService location (HTTP-Redirect preferred, then HTTP-POST). */
  readonly ssoUrl: string;
  readonly ssoBinding: string;
  readonly sloUrl: string | null;
  /** Every signing certificate, in document order; several during a certificate rollover. */
  readonly certificates: readonly SigningCertificate[];
  readonly nameIdFormats: readonly string[];
  readonly validUntil: Date | null;
}

const invalid = (message: string, hint?: string) =>
  new AdminError('METADATA_INVALID', message, hint ? { hint } : {});

/** Wraps base64 DER in PEM lines and checks that it is an X.509 certificate. */
export function readCertificate(text: string): SigningCertificate {
  const body = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new Error('not base64');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  const cert = new X509Certificate(pem);
  return {
    pem,
    subject: cert.subject.replace(/\n/g, ', '),
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
    fingerprint256: cert.fingerprint256,
  };
}

function parseXml(xml: string): Document {
  // A DOCTYPE can declare entities (billion laughs, external entities); metadata never needs one.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw invalid('The metadata contains a DOCTYPE, which SAML metadata may not have; refusing to read it.');
  }
  const problems: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (m: string) => problems.push(m),
      fatalError: (m: string) => problems.push(m),
    },
  }).parseFromString(xml, 'text/xml');
  if (problems.length || !doc?.documentElement) {
    throw invalid(`The metadata is not well-formed XML: ${problems[0] ?? 'no root element'}`.trim());
  }
  return doc as unknown as Document;
}

const ALGORITHMS = {
  signature: [
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  ],
  digest: ['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512'],
};

const badSignature = (message: string, hint?: string) =>
  new AdminError('METADATA_SIGNATURE_INVALID', message, hint ? { hint } : {});

/** Whether the root element carries an XML signature (verified or not). */
export function isSamlMetadataSigned(xml: string): boolean {
  return nodes('ds:Signature', parseXml(xml).documentElement).length > 0;
}

/**
 * Verifies the enveloped signature on the metadata's root element against `certificatePem`, and
 * returns the XML that signature covers. Only that XML may be read afterwards: anything else in the
 * document (a second EntityDescriptor, a KeyInfo certificate) is unauthenticated.
 */
export function verifySamlMetadataSignature(xml: string, certificatePem: string): string {
  const root = parseXml(xml).documentElement;
  const name = `<${root.tagName}>`;
  const signatures = nodes('ds:Signature', root);
  if (signatures.length === 0) {
    throw badSignature(
      `The metadata is not signed: its root element ${name} carries no signature.`,
      'Ask the identity provider for signed metadata, or import without --metadata-cert.',
    );
  }
  if (signatures.length > 1) throw badSignature(`The root element ${name} carries more than one signature.`);
  const signature = signatures[0] as Element;
  const signedInfo = nodes('ds:SignedInfo', signature);
  if (signedInfo.length !== 1) throw badSignature('The signature must have exactly one <ds:SignedInfo>.');
  const method = nodes('ds:SignatureMethod/@Algorithm', signedInfo[0]).map((a) => (a as Attr).value)[0];
  if (!method || !ALGORITHMS.signature.includes(method)) {
    throw badSignature(
      `The metadata is signed with ${method ?? 'no algorithm'}, which is refused; only RSA with SHA-256 or SHA-512 is accepted.`,
    );
  }
  const references = nodes('ds:Reference', signedInfo[0]);
  if (references.length !== 1) {
    throw badSignature(`The signature has ${references.length} references; it must reference only ${name}.`);
  }
  const reference = references[0] as Element;
  const digest = nodes('ds:DigestMethod/@Algorithm', reference).map((a) => (a as Attr).value)[0];
  if (!digest || !ALGORITHMS.digest.includes(digest)) {
    throw badSignature(
      `The metadata's digest uses ${digest ?? 'no algorithm'}, which is refused; only SHA-256 or SHA-512 is accepted.`,
    );
  }
  // The signature must cover the element the settings are read from, not some other element that
  // happens to be signed (signature wrapping).
  const uri = reference.getAttribute('URI') ?? '';
  const id = root.getAttribute('ID');
  if (uri !== '' && !(id && uri === `#${id}`)) {
    throw badSignature(
      `The signature references "${uri}", not the root element ${name}${id ? ` (ID "${id}")` : ''}.`,
    );
  }

  const verifier = new SignedXml({ publicCert: certificatePem, getCertFromKeyInfo: () => null });
  // Also refused inside the library, in case a document slips an algorithm past the checks above.
  verifier.SignatureAlgorithms = Object.fromEntries(
    Object.entries(verifier.SignatureAlgorithms).filter(([uri]) => ALGORITHMS.signature.includes(uri)),
  );
  verifier.HashAlgorithms = Object.fromEntries(
    Object.entries(verifier.HashAlgorithms).filter(([uri]) => ALGORITHMS.digest.includes(uri)),
  );
  const mismatch = badSignature(
    'The metadata signature does not verify with the given certificate: the document was altered or signed with another key.',
  );
  let valid: boolean;
  try {
    verifier.loadSignature(signature);
    valid = verifier.checkSignature(xml);
  } catch (error) {
    const message = (error as Error).message;
    // A wrong key or a tampered SignedInfo shows as an incorrect signature value.
    if (/signature value .* is incorrect/.test(message)) throw mismatch;
    throw badSignature(`The metadata signature cannot be verified: ${message.replace(/\.$/, '')}.`);
  }
  const signed = verifier.getSignedReferences();
  if (!valid || signed.length !== 1) throw mismatch;
  return signed[0]!;
}

const attr = (node: unknown, name: string): string | null =>
  ((node as Element).getAttribute?.(name) ?? '').trim() || null;

const nodes = (expression: string, context: unknown): unknown[] =>
  select(expression, context as never) as unknown[];

/**
 * Reads an IdP's SAML 2.0 metadata: entity id, SSO URL and signing certificates. An aggregate
 * (`EntitiesDescriptor`) with several IdPs needs `entityId` to pick one.
 */
export function parseSamlMetadata(xml: string, options: { entityId?: string } = {}): SamlIdpMetadata {
  const doc = parseXml(xml);
  const root = doc.documentElement;
  if (root.namespaceURI !== MD || !['EntityDescriptor', 'EntitiesDescriptor'].includes(root.localName)) {
    throw invalid(
      `This is not SAML 2.0 metadata: the root element is <${root.tagName}>, expected <md:EntityDescriptor>.`,
    );
  }
  const idps = nodes('//md:EntityDescriptor[md:IDPSSODescriptor]', doc);
  if (idps.length === 0) {
    throw invalid(
      'The metadata describes no identity provider (no <md:IDPSSODescriptor>).',
      "Is this the service provider's metadata? Download the IdP metadata instead.",
    );
  }
  let entity = idps[0]!;
  if (options.entityId !== undefined) {
    const chosen = idps.find((e) => attr(e, 'entityID') === options.entityId);
    if (!chosen) {
      throw invalid(
        `No identity provider with entity id "${options.entityId}" in the metadata; it lists ${idps.map((e) => `"${attr(e, 'entityID')}"`).join(', ')}.`,
      );
    }
    entity = chosen;
  } else if (idps.length > 1) {
    throw invalid(
      `The metadata lists ${idps.length} identity providers: ${idps.map((e) => `"${attr(e, 'entityID')}"`).join(', ')}.`,
      'Choose one with --entity-id.',
    );
  }
  const entityId = attr(entity, 'entityID');
  if (!entityId) throw invalid('The EntityDescriptor has no entityID.');
  const descriptor = nodes('md:IDPSSODescriptor', entity)[0]!;
  const protocols = attr(descriptor, 'protocolSupportEnumeration') ?? '';
  if (!protocols.includes('urn:oasis:names:tc:SAML:2.0:protocol')) {
    throw invalid(`The identity provider "${entityId}" does not declare SAML 2.0 support.`);
  }
  const services = nodes('md:SingleSignOnService', descriptor);
  const sso =
    services.find((s) => attr(s, 'Binding') === REDIRECT) ??
    services.find((s) => attr(s, 'Binding') === POST);
  const ssoUrl = sso ? attr(sso, 'Location') : null;
  if (!sso || !ssoUrl) {
    throw invalid(
      `The identity provider "${entityId}" has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding.`,
    );
  }
  if (!/^https?:\/\//i.test(ssoUrl))
    throw invalid(`The SingleSignOnService location "${ssoUrl}" is not an http(s) URL.`);
  const slo = nodes('md:SingleLogoutService', descriptor).find((s) =>
    [REDIRECT, POST].includes(attr(s, 'Binding') ?? ''),
  );

  const certificates: SigningCertificate[] = [];
  const seen = new Set<string>();
  const keys = nodes('md:KeyDescriptor[not(@use) or @use="signing"]//ds:X509Certificate', descriptor);
  for (const [index, node] of keys.entries()) {
    const text = (node as Node).textContent ?? '';
    let cert: SigningCertificate;
    try {
      cert = readCertificate(text);
    } catch (error) {
      throw invalid(
        `Signing certificate ${index + 1} of "${entityId}" is not a valid X.509 certificate (${(error as Error).message}).`,
      );
    }
    if (seen.has(cert.fingerprint256)) continue;
    seen.add(cert.fingerprint256);
    certificates.push(cert);
  }
  if (certificates.length === 0) {
    throw invalid(
      `The identity provider "${entityId}" publishes no signing certificate; its logins could not be verified.`,
    );
  }
  const validUntilText = attr(entity, 'validUntil') ?? attr(root, 'validUntil');
  const validUntil =
    validUntilText && !Number.isNaN(Date.parse(validUntilText)) ? new Date(validUntilText) : null;
  return {
    entityId,
    ssoUrl,
    ssoBinding: attr(sso, 'Binding')!,
    sloUrl: slo ? attr(slo, 'Location') : null,
    certificates,
    nameIdFormats: nodes('md:NameIDFormat', descriptor).map((n) => ((n as Node).textContent ?? '').trim()),
    validUntil,
  };
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
};
const isHost = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/** The attribute-mapping preset an IdP's SAML entity id (or SSO URL) points to. */
export function detectSamlPreset(entityId: string, ssoUrl: string): PresetName {
  const id = entityId.toLowerCase();
  const hosts = [hostOf(entityId), hostOf(ssoUrl)];
  if (
    id.startsWith('https://sts.windows.net/') ||
    hosts.some((h) => isHost(h, 'login.microsoftonline.com'))
  ) {
    return 'entra';
  }
  if (
    id.startsWith('http://www.okta.com/') ||
    hosts.some((h) => isHost(h, 'okta.com') || isHost(h, 'oktapreview.com'))
  ) {
    return 'okta';
  }
  if (id.startsWith('https://accounts.google.com/o/saml2')) return 'google';
  if (hosts.some((h) => isHost(h, 'onelogin.com'))) return 'onelogin';
  return 'saml';
}

export interface OidcDiscovery {
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string | null;
  readonly jwksUri: string;
  /** Microsoft's multi-tenant issuers carry a `{tenantid}` placeholder. */
  readonly multiTenant: boolean;
}

const WELL_KNOWN = '/.well-known/openid-configuration';

/** The discovery document's URL for an issuer URL or a discovery URL. */
export function discoveryUrlOf(url: string): string {
  return url.includes('/.well-known/') ? url : `${url.replace(/\/+$/, '')}${WELL_KNOWN}`;
}

/** Checks an OpenID Provider's discovery document (OpenID Connect Discovery 1.0, section 3 and 4.3). */
export function parseOidcDiscovery(document: unknown, discoveryUrl: string): OidcDiscovery {
  const bad = (message: string) => new AdminError('DISCOVERY_INVALID', `${message} (${discoveryUrl})`);
  if (!document || typeof document !== 'object' || Array.isArray(document)) {
    throw bad('The discovery document is not a JSON object');
  }
  const d = document as Record<string, unknown>;
  const url = (name: string, required: boolean): string | null => {
    const value = d[name];
    if (value === undefined && !required) return null;
    if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) {
      throw bad(
        `The discovery document's "${name}" is ${value === undefined ? 'missing' : 'not an http(s) URL'}`,
      );
    }
    return value;
  };
  const issuer = url('issuer', true)!;
  const multiTenant = issuer.includes('{tenantid}');
  // The issuer must be the URL the document was fetched from, minus the well-known suffix (4.3);
  // otherwise a document could claim another provider's issuer.
  if (discoveryUrl.endsWith(WELL_KNOWN)) {
    const base = discoveryUrl.slice(0, -WELL_KNOWN.length).replace(/\/+$/, '');
    const expected = issuer.replace(/\/+$/, '');
    const templated =
      multiTenant &&
      new RegExp(
        `^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\\{tenantid\\}', '[^/]+')}$`,
      ).test(base);
    if (base !== expected && !templated) {
      throw bad(`The issuer "${issuer}" does not match the discovery URL`);
    }
  }
  return {
    issuer,
    discoveryUrl,
    authorizationEndpoint: url('authorization_endpoint', true)!,
    tokenEndpoint: url('token_endpoint', false),
    jwksUri: url('jwks_uri', true)!,
    multiTenant,
  };
}

export function detectOidcPreset(issuer: string): PresetName {
  const host = hostOf(issuer.replace('{tenantid}', 'tenant'));
  return isHost(host, 'login.microsoftonline.com') || isHost(host, 'sts.windows.net') ? 'entra-oidc' : 'oidc';
}
