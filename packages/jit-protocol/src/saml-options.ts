import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { ConfigurationError, UnknownConnectionError, type Connection } from '@jit-sso/core';
import type { SamlConfig } from '@node-saml/node-saml';
import type { ReplayCache } from './replay-cache.js';
import { rememberExpectations } from './saml-precheck.js';

/** A SAML connection's `protocolOptions.saml`. */
export interface SamlSettings {
  /** The IdP's single sign-on URL (HTTP-Redirect binding). */
  readonly entryPoint: string;
  /** The IdP's signing certificate(s), PEM; two during a rollover. Never taken from the response. */
  readonly idpCert: string | readonly string[];
  /**
   * During a certificate rollover (`idpCert` lists the new certificate first): until when the
   * others are still accepted; after it, only the first. `null` when no rollover is under way.
   */
  readonly previousCertUntil: Date | null;
  /** The IdP entity id; defaults to the connection's `issuer`. */
  readonly idpEntityId: string;
  /** This service provider's entity id; also the audience every assertion must name. */
  readonly spEntityId: string;
  /** This connection's Assertion Consumer Service URL. */
  readonly acsUrl: string;
  /** Default true. */
  readonly wantAssertionsSigned: boolean;
  /** Default true; Microsoft Entra ID signs only the assertion unless configured, so set false for it. */
  readonly wantAuthnResponseSigned: boolean;
  /** Accept SHA-1 signatures (default false). */
  readonly allowSha1: boolean;
  /** Clock skew allowed on time conditions, 0 to 60 000 ms (default 30 000). */
  readonly clockSkewMs: number;
  /** SP signing key and certificate for AuthnRequests (signed with RSA-SHA256), optional. */
  readonly privateKey: string | null;
  readonly publicCert: string | null;
  /** Accept unsolicited (IdP-initiated) responses; default false. */
  readonly allowIdpInitiated: boolean;
  /** Where an IdP-initiated login may send the browser (exact RelayState values). */
  readonly relayStateAllowList: readonly string[];
  /** Requested NameID format; default persistent. */
  readonly identifierFormat: string | null;
}

function text(value: unknown, field: string, id: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigurationError(`Invalid connection "${id}": protocolOptions.saml.${field} is required.`);
  }
  return value.trim();
}

function url(value: unknown, field: string, id: string): string {
  const raw = text(value, field, id);
  try {
    new URL(raw);
    return raw;
  } catch {
    throw new ConfigurationError(
      `Invalid connection "${id}": protocolOptions.saml.${field} must be an absolute URL.`,
    );
  }
}

function flag(value: unknown, fallback: boolean, field: string, id: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new ConfigurationError(
      `Invalid connection "${id}": protocolOptions.saml.${field} must be a boolean.`,
    );
  return value;
}

/** A PEM certificate, or its base64 body alone as IdP metadata gives it (node-saml takes both). */
function certificate(value: unknown, field: string, id: string): string {
  const raw = text(value, field, id);
  const body = raw.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  try {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new Error('not base64');
    new X509Certificate(
      `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`,
    );
  } catch (error) {
    throw new ConfigurationError(
      `Invalid connection "${id}": protocolOptions.saml.${field} is not a PEM or base64 X.509 certificate.`,
      { cause: error },
    );
  }
  return raw;
}

function privateKey(value: unknown, field: string, id: string): string {
  const raw = text(value, field, id);
  try {
    createPrivateKey(raw);
  } catch (error) {
    throw new ConfigurationError(
      `Invalid connection "${id}": protocolOptions.saml.${field} is not a PEM private key.`,
      { cause: error },
    );
  }
  return raw;
}

// Settings read once per connection object (connections are frozen); strategies read them at each login.
const read = new WeakMap<Connection, SamlSettings>();
// A key for each set of kept settings: a connection changed at run time is a new object, so new
// settings and a new key. The prefix keeps keys of two copies of this module apart.
const settingsKeys = new WeakMap<SamlSettings, string>();
const keyPrefix = randomUUID();
let settingsRead = 0;

/** Reads and checks a SAML connection's settings; throws `INVALID_CONFIGURATION` naming the field, `UNKNOWN_CONNECTION` for a connection of another protocol. */
export function readSamlSettings(connection: Connection): SamlSettings {
  const id = connection.id;
  // Asked for at a SAML route: an OIDC connection is not a SAML connection that exists.
  if (connection.protocol !== 'saml') throw new UnknownConnectionError(id);
  const known = read.get(connection);
  if (known) return known;
  const settings = checkSamlSettings(connection);
  if (Object.isFrozen(connection)) {
    read.set(connection, settings);
    settingsKeys.set(settings, `${keyPrefix}:${settingsRead++}`);
  }
  return settings;
}

function checkSamlSettings(connection: Connection): SamlSettings {
  const id = connection.id;
  const raw = (connection.protocolOptions['saml'] ?? {}) as Record<string, unknown>;
  const certs = Array.isArray(raw['idpCert']) ? raw['idpCert'] : [raw['idpCert']];
  if (certs.length === 0)
    throw new ConfigurationError(`Invalid connection "${id}": protocolOptions.saml.idpCert is required.`);
  const idpCert = certs.map((c, i) =>
    certificate(c, Array.isArray(raw['idpCert']) ? `idpCert[${i}]` : 'idpCert', id),
  );
  const skew = raw['clockSkewMs'] ?? 30_000;
  if (typeof skew !== 'number' || !Number.isInteger(skew) || skew < 0 || skew > 60_000) {
    throw new ConfigurationError(
      `Invalid connection "${id}": protocolOptions.saml.clockSkewMs must be between 0 and 60000.`,
    );
  }
  const allowList = raw['relayStateAllowList'] ?? [];
  if (!Array.isArray(allowList) || allowList.some((v) => typeof v !== 'string')) {
    throw new ConfigurationError(
      `Invalid connection "${id}": protocolOptions.saml.relayStateAllowList must list strings.`,
    );
  }
  const until = raw['previousCertUntil'];
  if (
    until !== undefined &&
    until !== null &&
    (typeof until !== 'string' || Number.isNaN(Date.parse(until)))
  ) {
    throw new ConfigurationError(
      `Invalid connection "${id}": protocolOptions.saml.previousCertUntil must be an ISO 8601 date.`,
    );
  }
  const optional = (field: string) =>
    raw[field] === undefined || raw[field] === null ? null : text(raw[field], field, id);
  return Object.freeze({
    entryPoint: url(raw['entryPoint'], 'entryPoint', id),
    idpCert: Object.freeze(idpCert),
    previousCertUntil: typeof until === 'string' ? new Date(until) : null,
    idpEntityId:
      raw['idpEntityId'] === undefined ? connection.issuer : text(raw['idpEntityId'], 'idpEntityId', id),
    spEntityId: text(raw['spEntityId'], 'spEntityId', id),
    acsUrl: url(raw['acsUrl'], 'acsUrl', id),
    wantAssertionsSigned: flag(raw['wantAssertionsSigned'], true, 'wantAssertionsSigned', id),
    wantAuthnResponseSigned: flag(raw['wantAuthnResponseSigned'], true, 'wantAuthnResponseSigned', id),
    allowSha1: flag(raw['allowSha1'], false, 'allowSha1', id),
    clockSkewMs: skew,
    privateKey: optional('privateKey') === null ? null : privateKey(raw['privateKey'], 'privateKey', id),
    publicCert: optional('publicCert') === null ? null : certificate(raw['publicCert'], 'publicCert', id),
    allowIdpInitiated: flag(raw['allowIdpInitiated'], false, 'allowIdpInitiated', id),
    relayStateAllowList: Object.freeze([...(allowList as string[])]),
    identifierFormat:
      raw['identifierFormat'] === null
        ? null
        : (optional('identifierFormat') ?? 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'),
  });
}

/**
 * node-saml options for a connection, with the safe defaults: pinned certificates, audience = SP
 * entity id, `validateInResponseTo: 'always'` on a shared cache, bounded clock skew, SHA-256 for what
 * the SP signs. IdP-initiated logins only when the connection opts in.
 */
export function samlOptionsFor(
  connection: Connection,
  cache: ReplayCache,
  settings = readSamlSettings(connection),
): SamlConfig {
  const certs = [...settings.idpCert];
  const rolledOver = settings.previousCertUntil !== null && Date.now() > settings.previousCertUntil.getTime();
  const config: SamlConfig = {
    entryPoint: settings.entryPoint,
    idpCert: rolledOver ? certs.slice(0, 1) : certs,
    idpIssuer: settings.idpEntityId,
    issuer: settings.spEntityId,
    audience: settings.spEntityId,
    callbackUrl: settings.acsUrl,
    wantAssertionsSigned: settings.wantAssertionsSigned,
    wantAuthnResponseSigned: settings.wantAuthnResponseSigned,
    acceptedClockSkewMs: settings.clockSkewMs,
    validateInResponseTo: (settings.allowIdpInitiated
      ? 'ifPresent'
      : 'always') as SamlConfig['validateInResponseTo'],
    cacheProvider: cache,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    identifierFormat: settings.identifierFormat,
    disableRequestedAuthnContext: true,
    ...(settings.privateKey ? { privateKey: settings.privateKey } : {}),
    ...(settings.publicCert ? { publicCert: settings.publicCert } : {}),
  };
  // What checkSamlAssertion expects of responses validated with these options (by a worker thread),
  // and, for kept settings, the key under which a worker thread keeps the options: everything here
  // but the cache comes from the settings and the rollover.
  const key = settingsKeys.get(settings);
  rememberExpectations(
    config,
    { idpEntityId: settings.idpEntityId, acsUrl: settings.acsUrl, allowSha1: settings.allowSha1 },
    key === undefined ? undefined : `${key}:${rolledOver ? 'rolled-over' : 'all'}`,
  );
  // The key names these values: they must not change under it.
  return Object.freeze(config);
}
