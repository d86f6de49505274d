/**
 * Every refusal the library makes is a `JitError` with a stable `code`. Adapters map the code to an
 * HTTP status through `httpStatus`, show `message` and `hint` to the person who can fix it (an
 * administrator), and never show `cause` or `details` marked as internal.
 */
export type JitErrorCode =
  | 'INVALID_CONFIGURATION'
  | 'UNKNOWN_CONNECTION'
  | 'TENANT_MISMATCH'
  | 'ISSUER_MISMATCH'
  | 'INVALID_PROFILE'
  | 'TRANSIENT_SUBJECT'
  | 'MISSING_ATTRIBUTE'
  | 'INVALID_ATTRIBUTE'
  | 'JIT_DISABLED'
  | 'DOMAIN_NOT_ALLOWED'
  | 'EMAIL_NOT_VERIFIED'
  | 'ACCOUNT_CONFLICT'
  | 'SEAT_LIMIT_REACHED'
  | 'USER_DEACTIVATED'
  | 'USER_NOT_PROVISIONED'
  | 'USER_NOT_FOUND'
  | 'NO_ROLE_GRANTED'
  | 'REJECTED_BY_RESOLVER'
  | 'STORE_FAILURE'
  | 'SERVER_BUSY'
  // Protocol checks made by the adapters on top of node-saml and openid-client.
  | 'SAML_RESPONSE_INVALID'
  | 'SAML_ISSUER_MISMATCH'
  | 'SAML_RECIPIENT_MISMATCH'
  | 'SAML_WEAK_SIGNATURE'
  | 'SAML_REPLAY'
  | 'SAML_UNSOLICITED'
  | 'LOGIN_NOT_STARTED_HERE'
  | 'SAML_DOCTYPE_FORBIDDEN'
  | 'OIDC_CALLBACK_INVALID'
  | 'OIDC_TENANT_NOT_ALLOWED'
  | 'IDP_UNREACHABLE'
  | 'SESSION_ENDED'
  // Webhook endpoints.
  | 'WEBHOOK_URL_INVALID'
  | 'WEBHOOK_URL_REFUSED'
  | 'WEBHOOK_EVENT_TYPE_UNKNOWN'
  | 'WEBHOOK_ENDPOINT_NOT_FOUND';

export interface JitErrorOptions {
  cause?: unknown;
  /** Facts an administrator may see (attribute names, the issuer received); never assertion contents or tokens. */
  details?: Readonly<Record<string, unknown>>;
  hint?: string;
}

/** The HTTP status an adapter answers with for each code; one table so that every adapter agrees. */
const STATUS: Readonly<Record<JitErrorCode, number>> = {
  INVALID_CONFIGURATION: 500,
  UNKNOWN_CONNECTION: 404,
  TENANT_MISMATCH: 403,
  ISSUER_MISMATCH: 401,
  INVALID_PROFILE: 401,
  TRANSIENT_SUBJECT: 401,
  MISSING_ATTRIBUTE: 403,
  INVALID_ATTRIBUTE: 403,
  JIT_DISABLED: 403,
  DOMAIN_NOT_ALLOWED: 403,
  EMAIL_NOT_VERIFIED: 403,
  ACCOUNT_CONFLICT: 403,
  SEAT_LIMIT_REACHED: 403,
  USER_DEACTIVATED: 403,
  USER_NOT_PROVISIONED: 403,
  USER_NOT_FOUND: 404,
  NO_ROLE_GRANTED: 403,
  REJECTED_BY_RESOLVER: 403,
  STORE_FAILURE: 503,
  SERVER_BUSY: 503,
  SAML_RESPONSE_INVALID: 401,
  SAML_ISSUER_MISMATCH: 401,
  SAML_RECIPIENT_MISMATCH: 401,
  SAML_WEAK_SIGNATURE: 401,
  SAML_REPLAY: 401,
  SAML_UNSOLICITED: 401,
  LOGIN_NOT_STARTED_HERE: 401,
  SAML_DOCTYPE_FORBIDDEN: 400,
  OIDC_CALLBACK_INVALID: 401,
  OIDC_TENANT_NOT_ALLOWED: 403,
  IDP_UNREACHABLE: 502,
  SESSION_ENDED: 401,
  WEBHOOK_URL_INVALID: 400,
  WEBHOOK_URL_REFUSED: 400,
  WEBHOOK_EVENT_TYPE_UNKNOWN: 400,
  WEBHOOK_ENDPOINT_NOT_FOUND: 404,
};

const HINTS: Readonly<Record<JitErrorCode, string>> = {
  INVALID_CONFIGURATION: 'Fix the connection configuration; the message names the field.',
  UNKNOWN_CONNECTION: 'Check the connection id in the login URL against the configured connections.',
  TENANT_MISMATCH: 'Use the login URL of the organisation this identity provider belongs to.',
  ISSUER_MISMATCH: "Set the connection's issuer to the identity provider's entity id / issuer URL.",
  INVALID_PROFILE:
    'The identity provider sent a login without a usable subject; check its NameID / sub settings.',
  TRANSIENT_SUBJECT:
    'Configure the identity provider to send a persistent NameID (or email/unspecified), not a transient one.',
  MISSING_ATTRIBUTE:
    'Add the attribute to the identity provider’s attribute statements, or map the connection to an attribute it sends.',
  INVALID_ATTRIBUTE: 'Correct the attribute value at the identity provider.',
  JIT_DISABLED: 'Create the account first (SCIM or an administrator), or enable just-in-time creation.',
  DOMAIN_NOT_ALLOWED: "Add and verify the email domain for this organisation, or correct the user's email.",
  EMAIL_NOT_VERIFIED:
    'Have the identity provider verify the email address, or mark the connection as authoritative for its domains.',
  ACCOUNT_CONFLICT:
    'An account with this email already exists and cannot be linked automatically; an administrator must link or remove it.',
  SEAT_LIMIT_REACHED: 'Deactivate unused accounts or raise the seat limit for this organisation.',
  USER_DEACTIVATED: 'Reactivate the account (SCIM or an administrator) if this person should have access.',
  USER_NOT_PROVISIONED:
    'Assign this person to the application in the directory so that SCIM provisions them.',
  USER_NOT_FOUND: 'Check the user id.',
  NO_ROLE_GRANTED:
    "Add the person to a group that grants a role, or add a rule for one of the person's groups.",
  REJECTED_BY_RESOLVER: "The application's own sign-in rules refused this login.",
  STORE_FAILURE: 'The account database did not answer; try again, and check the database if it persists.',
  SERVER_BUSY:
    'Too many sign-ins are being checked at this moment; try again in a few seconds. If it lasts, give the SAML validation pool more threads or processes.',
  SAML_RESPONSE_INVALID: "Check the identity provider's signing certificate, clock and audience settings.",
  SAML_ISSUER_MISMATCH: "Set the connection's IdP entity id to the Issuer the identity provider sends.",
  SAML_RECIPIENT_MISMATCH: "Set the identity provider's ACS URL to this connection's ACS URL.",
  SAML_WEAK_SIGNATURE: 'Configure the identity provider to sign with RSA-SHA256.',
  SAML_REPLAY: 'Start the sign-in again from the application.',
  SAML_UNSOLICITED:
    'Start the sign-in from the application, or let this connection accept IdP-initiated sign-ins (allowIdpInitiated).',
  LOGIN_NOT_STARTED_HERE:
    'Start the sign-in again from the application, in this browser; a sign-in link from someone else does not work.',
  SAML_DOCTYPE_FORBIDDEN: 'SAML messages may not contain a DOCTYPE.',
  OIDC_CALLBACK_INVALID: 'Start the sign-in again from the application.',
  OIDC_TENANT_NOT_ALLOWED: 'Add the directory (tenant) id to the connection’s allow-list.',
  IDP_UNREACHABLE:
    "The identity provider did not answer (discovery or token endpoint); try again, and check the connection's issuer URL.",
  SESSION_ENDED: 'Sign in again.',
  WEBHOOK_URL_INVALID: 'Give an absolute https URL (http only outside production), without credentials.',
  WEBHOOK_URL_REFUSED:
    'The URL resolves to a private, loopback or link-local address; in production webhooks go to public addresses only.',
  WEBHOOK_EVENT_TYPE_UNKNOWN:
    'Subscribe to the lifecycle event types this release sends (`LIFECYCLE_EVENT_TYPES`, listed in the error), or to none for all of them.',
  WEBHOOK_ENDPOINT_NOT_FOUND: 'Check the endpoint id (`jit webhooks list`).',
};

/** The hints of the codes, for code that only has a code (a stored refusal). */
export const HINTS_BY_CODE: Readonly<Record<string, string>> = HINTS;

/** The hint shown with an error code. */
export function hintFor(code: JitErrorCode): string {
  return HINTS[code];
}

export class JitError extends Error {
  readonly code: JitErrorCode;
  readonly hint: string;
  readonly details: Readonly<Record<string, unknown>>;
  override readonly cause?: unknown;

  constructor(code: JitErrorCode, message: string, options: JitErrorOptions = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint ?? HINTS[code];
    this.details = Object.freeze({ ...options.details });
    if (options.cause !== undefined) this.cause = options.cause;
  }

  /** The HTTP status an adapter should answer with. */
  get httpStatus(): number {
    return STATUS[this.code];
  }

  /** What may be shown to the person signing in and their administrator: no cause, no stack. */
  toJSON(): {
    code: JitErrorCode;
    message: string;
    hint: string;
    details: Readonly<Record<string, unknown>>;
  } {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

export function isJitError(value: unknown): value is JitError {
  return value instanceof JitError;
}

/** A webhook endpoint that cannot be registered or reached as given. */
export class WebhookError extends JitError {
  constructor(
    code:
      | 'WEBHOOK_URL_INVALID'
      | 'WEBHOOK_URL_REFUSED'
      | 'WEBHOOK_EVENT_TYPE_UNKNOWN'
      | 'WEBHOOK_ENDPOINT_NOT_FOUND',
    message: string,
    options?: JitErrorOptions,
  ) {
    super(code, message, options);
  }
}

export class ConfigurationError extends JitError {
  constructor(message: string, options?: JitErrorOptions) {
    super('INVALID_CONFIGURATION', message, options);
  }
}

export class UnknownConnectionError extends JitError {
  constructor(connectionId: string) {
    super('UNKNOWN_CONNECTION', `No connection is configured with id "${connectionId}".`, {
      details: { connectionId },
    });
  }
}

export class TenantMismatchError extends JitError {
  constructor(connectionId: string, tenantId: string) {
    super('TENANT_MISMATCH', `Connection "${connectionId}" does not belong to tenant "${tenantId}".`, {
      details: { connectionId, tenantId },
    });
  }
}

export class IssuerMismatchError extends JitError {
  constructor(expected: string, received: string) {
    super(
      'ISSUER_MISMATCH',
      `The login was issued by "${received}", but the connection expects "${expected}".`,
      {
        details: { expected, received },
      },
    );
  }
}

export class InvalidProfileError extends JitError {
  constructor(message: string, options?: JitErrorOptions) {
    super('INVALID_PROFILE', message, options);
  }
}

export class TransientSubjectError extends JitError {
  constructor(format: string) {
    super(
      'TRANSIENT_SUBJECT',
      `A transient NameID (${format}) changes at every login and cannot identify a user.`,
      {
        details: { nameIDFormat: format },
      },
    );
  }
}

export class MissingAttributeError extends JitError {
  constructor(field: string, expected: readonly string[], present: readonly string[]) {
    super(
      'MISSING_ATTRIBUTE',
      `The required attribute "${field}" is missing: looked for ${expected.map((n) => `"${n}"`).join(', ')}; ` +
        `the identity provider sent ${present.length ? present.map((n) => `"${n}"`).join(', ') : 'no attributes'}.`,
      { details: { field, expected: [...expected], present: [...present] } },
    );
  }
}

export class InvalidAttributeError extends JitError {
  constructor(field: string, reason: string) {
    super('INVALID_ATTRIBUTE', `The attribute "${field}" is not valid: ${reason}.`, { details: { field } });
  }
}

export class JitDisabledError extends JitError {
  constructor(connectionId: string, mode: string) {
    super(
      'JIT_DISABLED',
      `No account exists for this person and connection "${connectionId}" does not create accounts (mode "${mode}").`,
      { details: { connectionId, mode } },
    );
  }
}

export class DomainNotAllowedError extends JitError {
  constructor(domain: string) {
    super(
      'DOMAIN_NOT_ALLOWED',
      `The email domain "${domain}" is not a verified domain of this organisation.`,
      {
        details: { domain },
      },
    );
  }
}

export class EmailNotVerifiedError extends JitError {
  constructor() {
    super(
      'EMAIL_NOT_VERIFIED',
      'The identity provider did not assert that the email address is verified, so it cannot be used to find an account.',
    );
  }
}

export class AccountConflictError extends JitError {
  constructor(reason: string, details?: Record<string, unknown>) {
    super('ACCOUNT_CONFLICT', reason, details ? { details } : {});
  }
}

export class SeatLimitReachedError extends JitError {
  constructor(tenantId: string, limit: number) {
    super('SEAT_LIMIT_REACHED', `Tenant "${tenantId}" has reached its limit of ${limit} active users.`, {
      details: { tenantId, limit },
    });
  }
}

export class UserDeactivatedError extends JitError {
  constructor(userId: string) {
    super('USER_DEACTIVATED', 'This account has been deactivated.', { details: { userId } });
  }
}

export class UserNotProvisionedError extends JitError {
  constructor() {
    super(
      'USER_NOT_PROVISIONED',
      'This organisation only admits people provisioned by its directory (SCIM), and this person is not.',
    );
  }
}

export class UserNotFoundError extends JitError {
  constructor(userId: string) {
    super('USER_NOT_FOUND', `No user with id "${userId}".`, { details: { userId } });
  }
}

export class NoRoleGrantedError extends JitError {
  constructor(groups: readonly string[]) {
    super(
      'NO_ROLE_GRANTED',
      groups.length
        ? `None of this person's groups grants a role: ${groups.map((g) => `"${g}"`).join(', ')}.`
        : 'This person is in no group, and the connection requires a group that grants a role.',
      { details: { groups: [...groups] } },
    );
  }
}

export class ResolverRejectedError extends JitError {
  constructor(reason: string, message?: string) {
    super('REJECTED_BY_RESOLVER', message ?? `The application refused this login (${reason}).`, {
      details: { reason },
    });
  }
}

export class StoreError extends JitError {
  constructor(message: string, cause?: unknown) {
    super('STORE_FAILURE', message, { cause });
  }
}

/**
 * The server has no room for this request now (a full queue of SAML responses waiting to be
 * validated): answered 503 with `Retry-After: retryAfterSeconds`, and worth trying again.
 */
export class ServerBusyError extends JitError {
  /** Seconds the client should wait before trying again (`Retry-After`). */
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 1) {
    super('SERVER_BUSY', message, { details: { retryAfterSeconds } });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Thrown by a store when an insert hits a unique key (a concurrent first login for the same subject
 * or email). It is not a `JitError`: the engine catches it, retries the decision in a new
 * transaction and returns the winner's account. It never reaches the caller.
 */
/**
 * A write that lost a race: a unique key taken by a concurrent writer (`identity`, `email`, `other`),
 * or `deadlock` when the database chose this transaction as the victim of a deadlock or a
 * serialisation failure. Either way the transaction was rolled back and may be run again.
 */
export class StoreConflictError extends Error {
  readonly constraint: 'identity' | 'email' | 'other' | 'deadlock';
  override readonly cause?: unknown;
  constructor(constraint: 'identity' | 'email' | 'other' | 'deadlock', cause?: unknown) {
    super(
      constraint === 'deadlock'
        ? 'transaction chosen as a deadlock victim'
        : `unique key violated (${constraint})`,
    );
    this.name = 'StoreConflictError';
    this.constraint = constraint;
    if (cause !== undefined) this.cause = cause;
  }
}
