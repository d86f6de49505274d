import { ConfigurationError, UnknownConnectionError, type Connection } from '@jit-sso/core';

/** An OIDC connection's `protocolOptions.oidc`. */
export interface OidcSettings {
  clientId: string;
  /** Omitted for a public client (PKCE only). */
  clientSecret?: string;
  /** This connection's callback URL, registered at the IdP. */
  redirectUri: string;
  /** Default `openid email profile`. */
  scope?: string;
  /** Plain-HTTP issuers; only for local development and tests. */
  allowInsecureRequests?: boolean;
}

export function readOidcSettings(connection: Connection): OidcSettings {
  const raw = (connection.protocolOptions['oidc'] ?? {}) as Record<string, unknown>;
  const need = (field: string) => {
    const value = raw[field];
    if (typeof value !== 'string' || value === '') {
      throw new ConfigurationError(
        `Invalid connection "${connection.id}": protocolOptions.oidc.${field} is required.`,
      );
    }
    return value;
  };
  if (connection.protocol !== 'oidc') throw new UnknownConnectionError(connection.id);
  return {
    clientId: need('clientId'),
    ...(typeof raw['clientSecret'] === 'string' ? { clientSecret: raw['clientSecret'] } : {}),
    redirectUri: need('redirectUri'),
    scope: typeof raw['scope'] === 'string' ? raw['scope'] : 'openid email profile',
    allowInsecureRequests: raw['allowInsecureRequests'] === true,
  };
}
