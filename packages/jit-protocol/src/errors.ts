import {
  isJitError,
  JitError,
  type AuditEvent,
  type JitErrorCode,
  type ProtocolDenial,
  type Provisioner,
} from '@jit-sso/core';

// Errors already written to the audit (the engine records its own denials).
const audited = new WeakSet<object>();

export function markAudited(error: JitError): JitError {
  audited.add(error);
  return error;
}

export function isAudited(error: unknown): boolean {
  return typeof error === 'object' && error !== null && audited.has(error);
}

const SAML_REASONS: ReadonlyArray<[RegExp, JitErrorCode, string]> = [
  [
    /InResponseTo is missing/i,
    'SAML_UNSOLICITED',
    'The response does not answer a sign-in this application started, and the connection does not accept IdP-initiated sign-ins.',
  ],
  [
    /InResponseTo/i,
    'SAML_REPLAY',
    'The response does not answer a sign-in this application started, or it was already used.',
  ],
  [
    /signature|signed|cert/i,
    'SAML_RESPONSE_INVALID',
    "The response's signature is missing or was not made with the connection's certificate.",
  ],
  [
    /expired|not yet valid|clock|NotBefore|NotOnOrAfter/i,
    'SAML_RESPONSE_INVALID',
    'The assertion is expired or not yet valid; check the identity provider’s clock.',
  ],
  [/audience/i, 'SAML_RESPONSE_INVALID', 'The assertion is meant for another service provider (audience).'],
  [/provider returned/i, 'SAML_RESPONSE_INVALID', 'The identity provider refused the sign-in.'],
];

const OIDC_REASONS: ReadonlyArray<[RegExp, string, string]> = [
  [/state/i, 'state', 'The sign-in response does not belong to a sign-in started in this browser (state).'],
  [/nonce/i, 'nonce', 'The ID token does not belong to this sign-in (nonce).'],
  [/"iss"|issuer/i, 'issuer', 'The ID token was issued by another issuer than the connection’s.'],
  [/"aud"|"azp"|audience/i, 'audience', 'The ID token was issued for another client (audience).'],
  [/"exp"|"iat"|"nbf"|"auth_time"|expired|timestamp/i, 'time', 'The ID token is expired or not yet valid.'],
  [
    /alg|signature|JWS|JWT|JWK|key/i,
    'signature',
    'The ID token is not signed with one of the issuer’s keys.',
  ],
  [/code|grant|verifier|PKCE/i, 'code', 'The authorization code was refused by the identity provider.'],
];

/**
 * Turns a failure raised by node-saml / passport-saml or openid-client (before the engine runs) into a
 * `JitError` whose message an administrator can act on. The library's own message stays in `cause`,
 * never in what is shown.
 */
const NETWORK = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|UND_ERR_\w+)$/;

/** A request to the identity provider that got no answer (as opposed to an answer that was refused). */
function isNetworkFailure(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK.test(code)) return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  }
  return false;
}

/** The messages and codes of a failure; openid-client puts what was wrong (e.g. the state) in the cause. */
function describeFailure(error: unknown, depth: number): string {
  if (!(error instanceof Error)) return String(error);
  const parts: string[] = [];
  for (let e: unknown = error, d = 0; e instanceof Error && d < depth; e = e.cause, d++)
    parts.push(`${e.message} ${(e as { code?: unknown }).code ?? ''}`);
  return parts.join(' ');
}

export function toProtocolError(error: unknown, protocol: 'saml' | 'oidc'): JitError {
  if (isJitError(error)) return error;
  if (protocol === 'oidc' && isNetworkFailure(error)) {
    return new JitError('IDP_UNREACHABLE', 'The identity provider did not answer.', { cause: error });
  }
  const text = describeFailure(error, protocol === 'oidc' ? 4 : 1);
  if (protocol === 'saml') {
    const match = SAML_REASONS.find(([pattern]) => pattern.test(text));
    return new JitError(
      match?.[1] ?? 'SAML_RESPONSE_INVALID',
      match?.[2] ?? 'The SAML response is not valid.',
      { cause: error },
    );
  }
  const match = OIDC_REASONS.find(([pattern]) => pattern.test(text));
  return new JitError(
    'OIDC_CALLBACK_INVALID',
    match?.[2] ?? 'The sign-in response from the identity provider is not valid.',
    {
      cause: error,
      details: { reason: match?.[1] ?? 'invalid' },
    },
  );
}

/**
 * Records a refusal the engine did not see (protocol failures, replay, issuer/recipient checks)
 * through the provisioner, which audits it and sends it to `onEvent`. Once per error: returns the
 * audit event, or `null` when the error was already recorded or the store could not take it.
 */
export async function recordProtocolDenial(
  provisioner: Provisioner,
  denial: ProtocolDenial,
): Promise<AuditEvent | null> {
  if (isAudited(denial.error)) return null;
  markAudited(denial.error);
  return provisioner.recordDenial(denial);
}
