import type { ParameterizedContext } from 'koa';
import type { Provisioner } from '@jit-sso/core';
import {
  oidcVerify as protocolOidcVerify,
  samlVerify as protocolSamlVerify,
  type OidcTokens,
  type ReplayCache,
  type SamlProfile,
} from '@jit-sso/protocol';
import { connectionIdOf } from './authenticate.js';
import type { KoaPassportRequest } from './strategies.js';

/** Passport's `done`: an error, or the signed-in `UserRecord` and `{ result }`. */
export type VerifyDone = (error: Error | null, user?: object | false, info?: object) => void;
export type KoaSamlVerify = (
  request: KoaPassportRequest,
  profile: SamlProfile | null,
  done: VerifyDone,
) => void;
export type KoaOidcVerify = (request: KoaPassportRequest, tokens: OidcTokens, done: VerifyDone) => void;

const ctxOf = (request: KoaPassportRequest): ParameterizedContext => request.ctx;

export interface KoaSamlVerifyOptions {
  provisioner: Provisioner;
  /** The cache given to node-saml as `cacheProvider`; also consumes assertion ids. */
  replayCache: ReplayCache;
  /** The router parameter naming the connection (default `connection`). */
  connectionParam?: string;
  tenantId?(ctx: ParameterizedContext): string | undefined;
}

/**
 * The verify callback for a passport-saml strategy of your own under koa-passport
 * (`passReqToCallback: true`): the checks node-saml leaves to the app, replay protection, then the
 * provisioning decision for the connection named in the route. The user is the `UserRecord`;
 * `info.result` is the `ProvisioningResult`. Every refusal is a `JitError` written to the audit.
 */
export function samlVerify(options: KoaSamlVerifyOptions): KoaSamlVerify {
  const param = options.connectionParam ?? 'connection';
  const { tenantId } = options;
  return protocolSamlVerify<KoaPassportRequest>({
    provisioner: options.provisioner,
    replayCache: options.replayCache,
    connectionId: (request) => connectionIdOf(ctxOf(request), param),
    ...(tenantId ? { tenantId: (request: KoaPassportRequest) => tenantId(ctxOf(request)) } : {}),
    relayState: (request) => {
      const relay = (ctxOf(request).request as { body?: { RelayState?: unknown } }).body?.RelayState;
      return typeof relay === 'string' ? relay : undefined;
    },
  });
}

export interface KoaOidcVerifyOptions {
  provisioner: Provisioner;
  /** The connection this strategy serves (one `openid-client` strategy per connection). */
  connectionId: string;
  tenantId?(ctx: ParameterizedContext): string | undefined;
}

/**
 * The verify callback for an `openid-client/passport` strategy of your own under koa-passport
 * (`passReqToCallback: true`): the Entra `tid` allow-list, then the provisioning decision on the
 * validated ID token claims.
 */
export function oidcVerify(options: KoaOidcVerifyOptions): KoaOidcVerify {
  const { tenantId } = options;
  return protocolOidcVerify<KoaPassportRequest>({
    provisioner: options.provisioner,
    connectionId: options.connectionId,
    ...(tenantId ? { tenantId: (request: KoaPassportRequest) => tenantId(ctxOf(request)) } : {}),
  });
}
