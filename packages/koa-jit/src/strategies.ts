import type { ParameterizedContext } from 'koa';
import type { Provisioner } from '@jit-sso/core';
import {
  createOidcStrategies as createPassportOidcStrategies,
  createSamlStrategy as createPassportSamlStrategy,
  type OidcStrategies,
  type ReplayCache,
  type SamlStrategy,
  type SamlValidationPool,
} from '@jit-sso/protocol';

/** The request koa-passport hands to strategies: Koa's request, with `ctx` and passport's fields. */
export interface KoaPassportRequest {
  readonly ctx: ParameterizedContext;
}

const ctxOf = (request: unknown): ParameterizedContext => (request as KoaPassportRequest).ctx;

export interface SamlStrategyOptions {
  provisioner: Provisioner;
  /** Shared by every process of the app: `RedisReplayCache`, or `MemoryReplayCache` for one process. */
  replayCache: ReplayCache;
  /** The router parameter naming the connection (default `connection`). */
  connectionParam?: string;
  /** The tenant being signed into, when the app knows it from the request; the connection must belong to it. */
  tenantId?(ctx: ParameterizedContext): string | undefined;
  /** The passport strategy name (default `saml`). */
  name?: string;
  /** Validates SAML responses on the pool's worker threads instead of the event loop (default: in-process). */
  samlValidationPool?: SamlValidationPool;
}

/**
 * The passport-saml strategy for every SAML connection, for koa-passport: the connection comes from
 * the router parameter, node-saml is set up safely from its `protocolOptions.saml`, and the verify
 * step makes the checks node-saml leaves to the app, then runs the provisioning decision
 * (`@jit-sso/protocol`): koa-passport gives it a request with `params` and `body`.
 */
export function createSamlStrategy(options: SamlStrategyOptions): SamlStrategy {
  const { tenantId, ...rest } = options;
  return createPassportSamlStrategy({
    ...rest,
    ...(tenantId ? { tenantId: (request: unknown) => tenantId(ctxOf(request)) } : {}),
  });
}

export interface OidcStrategiesOptions {
  provisioner: Provisioner;
  /** The tenant being signed into, when the app knows it from the request. */
  tenantId?(ctx: ParameterizedContext): string | undefined;
}

/**
 * One `openid-client` strategy per OIDC connection (PKCE, `state` and `nonce`, the ID token's
 * signature checked against the issuer's JWKS), built on first use from the discovery document; the
 * verify step checks the Entra `tid` allow-list and runs the provisioning decision.
 */
export function createOidcStrategies(options: OidcStrategiesOptions): OidcStrategies {
  const { tenantId, provisioner } = options;
  return createPassportOidcStrategies({
    provisioner,
    ...(tenantId ? { tenantId: (request: unknown) => tenantId(ctxOf(request)) } : {}),
  });
}

export type { OidcStrategies, SamlStrategy };
