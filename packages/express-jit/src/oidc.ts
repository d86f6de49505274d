import type { Request } from 'express';
import * as client from 'openid-client';
import { Strategy, type AuthenticateOptions } from 'openid-client/passport';
import {
  ConfigurationError,
  JitError,
  UnknownConnectionError,
  type Provisioner,
} from '@jit-sso/core';
import { oidcVerify } from './protocol/oidc-verify.js';
import { readOidcSettings } from './protocol/oidc-settings.js';
import { isEntraMultiTenantIssuer } from './protocol/entra.js';

/**
 * openid-client's passport strategy, with a `state` and a `nonce` in every authorization request
 * (besides PKCE, which it always uses), so the callback and the ID token are both bound to the
 * browser that started the sign-in.
 */
export class JitOidcStrategy extends Strategy {
  override authorizationRequestParams(req: Request, options: AuthenticateOptions): URLSearchParams {
    const base = super.authorizationRequestParams(req, options);
    const params = base instanceof URLSearchParams ? base : new URLSearchParams(base ?? {});
    params.set('state', client.randomState());
    params.set('nonce', client.randomNonce());
    return params;
  }
}

export interface OidcStrategiesOptions {
  provisioner: Provisioner;
  /** The tenant being signed into, when the app knows it from the request. */
  tenantId?(req: Request): string | undefined;
}

/**
 * One strategy per OIDC connection, built on first use from the issuer's discovery document, with
 * `enableNonRepudiationChecks` so the ID token's signature is verified against the issuer's JWKS.
 */
export function createOidcStrategies(options: OidcStrategiesOptions) {
  const strategies = new Map<string, Promise<JitOidcStrategy>>();

  async function build(connectionId: string): Promise<JitOidcStrategy> {
    const connection = await options.provisioner.getConnection(connectionId);
    // A SAML connection has no OIDC endpoints.
    if (connection.protocol !== 'oidc') throw new UnknownConnectionError(connection.id);
    const settings = readOidcSettings(connection);
    const config = await client
      .discovery(
        new URL(connection.issuer),
        settings.clientId,
        settings.clientSecret,
        settings.clientSecret ? client.ClientSecretPost(settings.clientSecret) : client.None(),
        settings.allowInsecureRequests ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((error: unknown) => {
        throw new JitError(
          'IDP_UNREACHABLE',
          `The issuer of connection "${connection.id}" did not answer its discovery request.`,
          {
            cause: error,
          },
        );
      });
    // A multi-tenant Entra issuer publishes the template `.../{tenantid}/v2.0` as its issuer.
    const published = config.serverMetadata().issuer;
    const template = isEntraMultiTenantIssuer(connection.issuer) && isEntraMultiTenantIssuer(published);
    if (published !== connection.issuer && !template) {
      throw new ConfigurationError(
        `Connection "${connection.id}": the discovery document names another issuer.`,
      );
    }
    client.enableNonRepudiationChecks(config);
    return new JitOidcStrategy(
      {
        config,
        name: `oidc:${connection.id}`,
        sessionKey: `jit-sso:oidc:${connection.id}`,
        callbackURL: settings.redirectUri,
        scope: settings.scope ?? 'openid email profile',
        passReqToCallback: true,
      },
      oidcVerify<Request>({
        provisioner: options.provisioner,
        connectionId: connection.id,
        ...(options.tenantId ? { tenantId: options.tenantId } : {}),
      }),
    );
  }

  return {
    /** The strategy of a connection; a failed discovery is retried at the next call. */
    strategyFor(connectionId: string): Promise<JitOidcStrategy> {
      let found = strategies.get(connectionId);
      if (!found) {
        found = build(connectionId);
        strategies.set(connectionId, found);
        found.catch(() => strategies.delete(connectionId));
      }
      return found;
    },
  };
}

export type OidcStrategies = ReturnType<typeof createOidcStrategies>;

export { readOidcSettings, type OidcSettings } from './protocol/oidc-settings.js';
