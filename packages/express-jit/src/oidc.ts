import type { Request } from 'express';
import {
  createOidcStrategies as createProtocolOidcStrategies,
  type OidcStrategies,
  type OidcStrategiesOptions as ProtocolOidcStrategiesOptions,
} from '@jit-sso/protocol';

export type OidcStrategiesOptions = ProtocolOidcStrategiesOptions<Request>;

/**
 * One `openid-client` strategy per OIDC connection (PKCE, `state` and `nonce`, the ID token's
 * signature checked against the issuer's JWKS), built on first use from the discovery document
 * (`@jit-sso/protocol`).
 */
export function createOidcStrategies(options: OidcStrategiesOptions): OidcStrategies {
  return createProtocolOidcStrategies<Request>(options);
}

export { JitOidcStrategy, readOidcSettings, type OidcSettings, type OidcStrategies } from '@jit-sso/protocol';
