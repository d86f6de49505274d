import type { Middleware, ParameterizedContext } from 'koa';
import {
  isJitError,
  JitError,
  type Provisioner,
  type ProvisioningResult,
  type UserRecord,
} from '@jit-sso/core';
import {
  connectionIdOf as routeConnectionId,
  readSamlSettings,
  recordProtocolDenial,
  refuseDoctypeInEncoded,
  toProtocolError,
  type SamlStrategy,
  type SsoRequest,
} from '@jit-sso/protocol';
import type { OidcStrategies } from './strategies.js';

export interface SsoRouteOptions {
  provisioner: Provisioner;
  /** The router parameter naming the connection (default `connection`). */
  connectionParam?: string;
  /** Establish a login session (default true). With false, `ctx.state.user` is set for this request only. */
  session?: boolean;
}

/** The slice of koa-passport's instance the sign-in routes use. */
export interface KoaAuthenticator {
  authenticate(
    strategy: string | object,
    options: object,
    callback: (error: unknown, user: unknown, info: unknown) => unknown,
  ): Middleware;
}

export interface SsoState {
  user?: UserRecord | null;
  /** The provisioning decision of the login that this request completed. */
  jitResult?: ProvisioningResult;
}

type Ctx = ParameterizedContext<SsoState> & {
  params?: Record<string, string>;
  request: { body?: Record<string, unknown> };
  login(user: unknown): Promise<void>;
};

/** The connection id from the router parameter; an absent one is an unknown connection. */
export function connectionIdOf(ctx: ParameterizedContext, param: string): string {
  return routeConnectionId(ctx as SsoRequest, param);
}

function ssoMiddleware(
  passport: KoaAuthenticator,
  protocol: 'saml' | 'oidc',
  strategyOf: (ctx: ParameterizedContext) => Promise<string | object> | string | object,
  options: SsoRouteOptions,
): Middleware<SsoState> {
  const param = options.connectionParam ?? 'connection';
  return async (context, next) => {
    const ctx = context as Ctx;
    let connectionId = '';
    let signedIn: UserRecord | null = null;
    try {
      connectionId = connectionIdOf(ctx, param);
      if (protocol === 'saml') {
        refuseDoctypeInEncoded(ctx.request.body?.['SAMLResponse']);
        refuseDoctypeInEncoded(ctx.request.body?.['SAMLRequest']);
      }
      const strategy = await strategyOf(ctx);
      await passport.authenticate(strategy, { session: false }, (error, user, info) => {
        if (error) throw error;
        if (!user) {
          const message = (info as { message?: unknown } | undefined)?.message;
          throw protocol === 'oidc'
            ? toProtocolError(new Error(typeof message === 'string' && message ? message : 'state'), 'oidc')
            : new JitError('SAML_RESPONSE_INVALID', 'The SAML response did not sign anyone in.');
        }
        const result = (info as { result?: ProvisioningResult } | undefined)?.result;
        if (result) ctx.state.jitResult = result;
        signedIn = user as UserRecord;
      })(ctx, async () => {});
      if (signedIn) {
        if (options.session === false) ctx.state.user = signedIn;
        else await ctx.login(signedIn);
      }
    } catch (error) {
      if (isJitError(error) && !connectionId) throw error;
      const refusal = toProtocolError(error, protocol);
      if (connectionId) await recordProtocolDenial(options.provisioner, { connectionId, error: refusal });
      throw refusal;
    }
    // The IdP redirect (sign-in start) is already the answer; only a completed sign-in goes on.
    if (signedIn) await next();
  };
}

/**
 * `GET /auth/saml/:connection/login` (redirects to the IdP) and `POST /auth/saml/:connection/acs`
 * (validates the response and signs the person in; parse the body with `koa-bodyparser` first).
 * Refusals are thrown as `JitError`s for `jitErrorHandler` and written to the audit.
 */
export function samlAuthenticate(
  passport: KoaAuthenticator,
  options: SsoRouteOptions & { strategy?: string },
): Middleware<SsoState> {
  return ssoMiddleware(passport, 'saml', () => options.strategy ?? 'saml', options);
}

/** `GET /auth/oidc/:connection/login` and `GET /auth/oidc/:connection/callback`. */
export function oidcAuthenticate(
  passport: KoaAuthenticator,
  strategies: OidcStrategies,
  options: SsoRouteOptions,
): Middleware<SsoState> {
  const param = options.connectionParam ?? 'connection';
  return ssoMiddleware(
    passport,
    'oidc',
    (ctx) => strategies.strategyFor(connectionIdOf(ctx, param)),
    options,
  );
}

/** `GET .../metadata`: the SP metadata of the connection in the URL (entity id, ACS URL, signing certificate). */
export function samlMetadata(
  strategy: SamlStrategy,
  options: { provisioner: Provisioner; connectionParam?: string },
): Middleware {
  const param = options.connectionParam ?? 'connection';
  return async (ctx) => {
    const connection = await options.provisioner.getConnection(connectionIdOf(ctx, param));
    const settings = readSamlSettings(connection);
    const request = Object.assign(Object.create(ctx.request), {
      ctx,
      params: (ctx as { params?: unknown }).params,
    });
    ctx.body = await new Promise<string>((resolve, reject) =>
      strategy.generateServiceProviderMetadata(request, null, settings.publicCert, (error, xml) =>
        error ? reject(error) : resolve(xml!),
      ),
    );
    ctx.type = 'application/samlmetadata+xml';
  };
}
