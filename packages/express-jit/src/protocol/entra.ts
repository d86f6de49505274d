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
