import { JitError, type Connection } from '@jit-sso/core';

const MULTI_TENANT =
  /^https:\/\/login\.microsoftonline\.com\/(common|organizations|consumers|\{tenantid\})\//i;

/** True for a Microsoft Entra issuer that admits any directory (`/common`, `/organizations`, `{tenantid}`). */
export function isEntraMultiTenantIssuer(issuer: string): boolean {
  return MULTI_TENANT.test(issuer);
}

/**
 * A multi-tenant Entra issuer lets a token of any directory through (openid-client puts the token's own
 * `tid` into the issuer template), so the `tid` must be on `connection.allowedTenantIds`. The list is
 * also enforced for any other connection that sets it. Throws `OIDC_TENANT_NOT_ALLOWED`, or
 * `INVALID_CONFIGURATION` for a multi-tenant issuer with an empty list.
 */
export function checkTenantId(
  connection: Pick<Connection, 'id' | 'issuer' | 'allowedTenantIds'>,
  claims: Record<string, unknown>,
): void {
  const multi = isEntraMultiTenantIssuer(connection.issuer);
  if (!multi && connection.allowedTenantIds.length === 0) return;
  if (multi && connection.allowedTenantIds.length === 0) {
    throw new JitError(
      'INVALID_CONFIGURATION',
      `Connection "${connection.id}" uses a multi-tenant issuer and must list the directories it admits in allowedTenantIds.`,
    );
  }
  const tid = typeof claims['tid'] === 'string' ? claims['tid'] : null;
  if (!tid || !connection.allowedTenantIds.includes(tid)) {
    throw new JitError(
      'OIDC_TENANT_NOT_ALLOWED',
      'The token was issued for a directory (tenant) this connection does not admit.',
      {
        details: { tid },
      },
    );
  }
}

/**
 * The claims the engine sees for a login through a multi-tenant Entra connection: once `tid` is on the
 * allow-list and `iss` is the directory's own issuer (`https://login.microsoftonline.com/<tid>/v2.0`),
 * `iss` is replaced by the connection's issuer so that the engine's issuer check applies. Other
 * connections' claims are returned as they are.
 */
export function claimsForEngine(
  connection: Pick<Connection, 'id' | 'issuer' | 'allowedTenantIds'>,
  claims: Record<string, unknown>,
): Record<string, unknown> {
  checkTenantId(connection, claims);
  if (!isEntraMultiTenantIssuer(connection.issuer)) return claims;
  const tid = claims['tid'] as string;
  const expected = connection.issuer.replace(MULTI_TENANT, `https://login.microsoftonline.com/${tid}/`);
  if (claims['iss'] !== expected) {
    throw new JitError(
      'OIDC_CALLBACK_INVALID',
      'The ID token’s issuer is not the directory named by its tid claim.',
      {
        details: { reason: 'issuer' },
      },
    );
  }
  return { ...claims, iss: connection.issuer };
}
