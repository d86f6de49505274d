import { InvalidProfileError, TransientSubjectError } from './errors.js';

/**
 * A verified login as the engine sees it, whatever the protocol. Build it with `fromSamlProfile` or
 * `fromOidcClaims` from what node-saml / openid-client returned after validation; never from
 * unvalidated request data.
 */
export interface SsoProfile {
  readonly protocol: 'saml' | 'oidc';
  /** SAML Issuer (the IdP entity id) or OIDC `iss`. */
  readonly issuer: string;
  /** SAML NameID or OIDC `sub`: the stable subject. Never the email. */
  readonly subject: string;
  readonly subjectFormat: string | null;
  /** OIDC `email_verified` as a boolean; `null` when the IdP did not say (SAML never says). */
  readonly emailVerified: boolean | null;
  /** Raw attributes (SAML) or claims (OIDC), kept for mapping. Values may be strings or arrays. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export const NAMEID_TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

/** The profile `@node-saml/node-saml` returns after `validatePostResponseAsync`. */
export interface SamlProfileInput {
  issuer?: string | null;
  nameID?: string | null;
  nameIDFormat?: string | null;
  attributes?: Record<string, unknown> | null;
  [key: string]: unknown;
}

// node-saml copies attributes onto the profile itself too; these keys are its own, not attributes.
const SAML_PROFILE_KEYS = new Set([
  'issuer',
  'nameID',
  'nameIDFormat',
  'nameQualifier',
  'spNameQualifier',
  'sessionIndex',
  'inResponseTo',
  'attributes',
  'getAssertionXml',
  'getAssertion',
  'getSamlResponseXml',
  'ID',
]);

function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidProfileError(`The login has no ${what}.`, { details: { missing: what } });
  }
  return value.trim();
}

function plainRecord(
  source: Record<string, unknown>,
  skip?: Set<string>,
  out: Record<string, unknown> = Object.create(null),
): Record<string, unknown> {
  // A null-prototype copy: attribute names such as "__proto__" stay plain names.
  for (const key of Object.keys(source)) {
    if (skip?.has(key)) continue;
    const value = source[key];
    if (typeof value === 'function') continue;
    out[key] = value;
  }
  return out;
}

export function fromSamlProfile(profile: SamlProfileInput): SsoProfile {
  const issuer = requireText(profile.issuer, 'Issuer');
  const subject = requireText(profile.nameID, 'NameID');
  const format = typeof profile.nameIDFormat === 'string' ? profile.nameIDFormat : null;
  if (format === NAMEID_TRANSIENT) throw new TransientSubjectError(format);
  const attributes =
    profile.attributes && typeof profile.attributes === 'object'
      ? plainRecord(profile.attributes)
      : plainRecord(profile, SAML_PROFILE_KEYS);
  return Object.freeze({
    protocol: 'saml',
    issuer,
    subject,
    subjectFormat: format,
    emailVerified: null,
    attributes,
  });
}

/** ID token claims, optionally merged with userinfo (ID token claims win for `iss` and `sub`). */
export function fromOidcClaims(
  claims: Record<string, unknown>,
  userinfo?: Record<string, unknown>,
): SsoProfile {
  const issuer = requireText(claims['iss'], 'issuer (iss)');
  const subject = requireText(claims['sub'], 'subject (sub)');
  if (userinfo && userinfo['sub'] !== undefined && userinfo['sub'] !== subject) {
    throw new InvalidProfileError('The userinfo response is for another subject than the ID token.');
  }
  const attributes = plainRecord(claims, undefined, userinfo ? plainRecord(userinfo) : undefined);
  return Object.freeze({
    protocol: 'oidc',
    issuer,
    subject,
    subjectFormat: null,
    emailVerified: parseBoolean(attributes['email_verified']),
    attributes,
  });
}

/** `true`/`false`, or the strings some IdPs send ("true", "False"); anything else is unknown. */
export function parseBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return null;
}
