import { isJitError } from '@jit-sso/core';

/**
 * What the admin service refuses, each with a stable code and one HTTP status, the same on every
 * framework and database. `STORE_FAILURE` (503) and the fetch failures (502) are the only ones that
 * are not the caller's to fix.
 */
export type AdminErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'FORBIDDEN_TENANT'
  | 'UNAUTHENTICATED'
  | 'CONNECTION_EXISTS'
  | 'VERSION_CONFLICT'
  | 'METADATA_UNREACHABLE'
  | 'METADATA_INVALID'
  | 'METADATA_SIGNATURE_INVALID'
  | 'CERTIFICATE_INVALID'
  | 'CERTIFICATE_EXPIRED'
  | 'DISCOVERY_UNREACHABLE'
  | 'DISCOVERY_INVALID'
  | 'DOMAIN_INVALID'
  | 'DOMAIN_PUBLIC_SUFFIX'
  | 'DOMAIN_TAKEN'
  | 'DOMAIN_ALREADY_CLAIMED'
  | 'DOMAIN_NOT_VERIFIED'
  | 'DNS_UNAVAILABLE'
  | 'NO_SAMPLE_LOGIN'
  | 'WEBHOOK_URL_INVALID'
  | 'WEBHOOK_URL_REFUSED'
  | 'WEBHOOK_EVENT_TYPE_UNKNOWN'
  | 'WEBHOOKS_UNAVAILABLE'
  | 'STORE_FAILURE';

const STATUS: Readonly<Record<AdminErrorCode, number>> = {
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  FORBIDDEN_TENANT: 403,
  UNAUTHENTICATED: 401,
  CONNECTION_EXISTS: 409,
  VERSION_CONFLICT: 409,
  METADATA_UNREACHABLE: 502,
  METADATA_INVALID: 422,
  METADATA_SIGNATURE_INVALID: 422,
  CERTIFICATE_INVALID: 422,
  CERTIFICATE_EXPIRED: 422,
  DISCOVERY_UNREACHABLE: 502,
  DISCOVERY_INVALID: 422,
  DOMAIN_INVALID: 400,
  DOMAIN_PUBLIC_SUFFIX: 422,
  DOMAIN_TAKEN: 409,
  DOMAIN_ALREADY_CLAIMED: 409,
  DOMAIN_NOT_VERIFIED: 422,
  DNS_UNAVAILABLE: 502,
  NO_SAMPLE_LOGIN: 404,
  WEBHOOK_URL_INVALID: 400,
  WEBHOOK_URL_REFUSED: 400,
  WEBHOOK_EVENT_TYPE_UNKNOWN: 400,
  WEBHOOKS_UNAVAILABLE: 501,
  STORE_FAILURE: 503,
};

const HINTS: Partial<Readonly<Record<AdminErrorCode, string>>> = {
  FORBIDDEN_TENANT: 'You administer another organisation; sign in as an administrator of this one.',
  VERSION_CONFLICT: 'Someone changed this connection meanwhile: reload it, then apply your change again.',
  METADATA_UNREACHABLE: "Check the metadata URL, or download the identity provider's metadata and upload it.",
  METADATA_SIGNATURE_INVALID:
    'Check the certificate the metadata is signed with, or ask the identity provider for its current metadata.',
  CERTIFICATE_EXPIRED:
    'Generate a new signing certificate at the identity provider and upload its metadata again.',
  DOMAIN_TAKEN: 'Another organisation holds this domain. Contact support if your organisation owns it.',
  DOMAIN_NOT_VERIFIED: 'Publish the TXT record shown, wait for DNS to update (minutes), then verify again.',
  DOMAIN_PUBLIC_SUFFIX:
    'Claim the domain your organisation registered, such as acme.co.uk, not a public suffix.',
  NO_SAMPLE_LOGIN: 'Sign in once through this connection (or run a test sign-in), then preview again.',
  WEBHOOKS_UNAVAILABLE:
    'The app manages webhooks through an identity store with an outbox: pass `webhooks: { store }` (a TypeormStore) to the admin service.',
  STORE_FAILURE: 'The configuration database did not answer; try again.',
};

const WEBHOOK_CODES = new Set<string>([
  'WEBHOOK_URL_INVALID',
  'WEBHOOK_URL_REFUSED',
  'WEBHOOK_EVENT_TYPE_UNKNOWN',
]);

export class AdminError extends Error {
  readonly code: AdminErrorCode;
  readonly hint: string | null;
  readonly details: Readonly<Record<string, unknown>>;
  override readonly cause?: unknown;

  constructor(
    code: AdminErrorCode,
    message: string,
    options: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message);
    this.name = 'AdminError';
    this.code = code;
    this.hint = options.hint ?? HINTS[code] ?? null;
    this.details = Object.freeze({ ...options.details });
    if (options.cause !== undefined) this.cause = options.cause;
  }

  get httpStatus(): number {
    return STATUS[this.code];
  }

  /** What the administrator sees: no cause, no stack. */
  toJSON(): {
    code: AdminErrorCode;
    message: string;
    hint: string | null;
    details: Readonly<Record<string, unknown>>;
  } {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

export function isAdminError(value: unknown): value is AdminError {
  return value instanceof AdminError;
}

/**
 * Any error of the service as an `AdminError`: a store failure (`StoreError`, or a JitError
 * `INVALID_CONFIGURATION` from validation) keeps its meaning; anything else is a server failure.
 */
export function toAdminError(error: unknown): AdminError {
  if (error instanceof AdminError) return error;
  if (isJitError(error)) {
    if (error.code === 'INVALID_CONFIGURATION') {
      return new AdminError('INVALID_INPUT', error.message, { details: { ...error.details }, cause: error });
    }
    if (error.code === 'STORE_FAILURE')
      return new AdminError('STORE_FAILURE', error.message, { cause: error });
    // A webhook endpoint refused as given keeps its code and hint.
    if (WEBHOOK_CODES.has(error.code)) {
      return new AdminError(error.code as AdminErrorCode, error.message, {
        hint: error.hint,
        details: { ...error.details },
        cause: error,
      });
    }
    if (error.code === 'WEBHOOK_ENDPOINT_NOT_FOUND') {
      return new AdminError('NOT_FOUND', error.message, { cause: error });
    }
  }
  return new AdminError('STORE_FAILURE', 'The configuration could not be read or written.', { cause: error });
}

/** Refusals that are security decisions: audited and logged once, by the service's `guarded`. */
const AUDITED_CODES = new Set<AdminErrorCode>(['FORBIDDEN_TENANT', 'WEBHOOK_URL_REFUSED']);
const refusalReasons = new WeakMap<AdminError, string>();

/**
 * Marks a refusal as a security decision whose audited reason differs from the code the caller
 * sees (another tenant's object answered `NOT_FOUND`, audited `ADMIN_CROSS_TENANT`).
 */
export function auditedAs(error: AdminError, reason: string): AdminError {
  refusalReasons.set(error, reason);
  return error;
}

/** The audit reason of a security refusal, or `null` for a refusal that is not one (bad input). */
export function securityRefusalReason(error: AdminError): string | null {
  return refusalReasons.get(error) ?? (AUDITED_CODES.has(error.code) ? error.code : null);
}
