import type { Middleware, ParameterizedContext } from 'koa';
import type { Provisioner, ProvisioningResult, UserRecord } from '@jit-sso/core';
import {
  connectionIdOf as routeConnectionId,
  createSignInFlow,
  registeredStrategy,
  readSamlSettings,
  type LoginAdmission,
  type PassportRegistry,
  type PassportStrategyLike,
  type SamlStrategy,
  type SignInProtocol,
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
export interface KoaAuthenticator extends PassportRegistry {
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
  /** The decision of a test sign-in (`TEST_SIGN_IN_RELAY_STATE`): nothing was written, nobody signed in. */
  jitTestResult?: ProvisioningResult;
}

type Ctx = ParameterizedContext<SsoState> & {
  params?: Record<string, string>;
  session?: unknown;
  login(user: unknown): Promise<void>;
};

/** The connection id from the router parameter; an absent one is an unknown connection. */
export function connectionIdOf(ctx: ParameterizedContext, param: string): string {
  return routeConnectionId(ctx as SsoRequest, param);
}

/** The request a passport strategy reads, as koa-passport builds it: Koa's request with the route, session and `ctx`. */
function strategyRequest(ctx: Ctx): SsoRequest {
  return Object.create(ctx.request, {
    ctx: { value: ctx },
    params: { value: ctx.params ?? {} },
    session: { get: () => ctx.session, set: (value: unknown) => void (ctx.session = value) },
  }) as SsoRequest;
}

/** Renders the flow's outcome: Koa only translates the request and the response. */
function signInRoute(
  protocol: SignInProtocol,
  strategy: (connectionId: string) => PassportStrategyLike | Promise<PassportStrategyLike>,
  options: SsoRouteOptions,
): Middleware<SsoState> {
  const signIn = createSignInFlow({
    protocol,
    provisioner: options.provisioner,
    connectionParam: options.connectionParam,
    strategy,
  });
  return async (context, next) => {
    const ctx = context as Ctx;
    const outcome = await signIn(strategyRequest(ctx));
    for (const { name, value, maxAgeMs, ...attributes } of outcome.cookies)
      ctx.cookies.set(name, value, { ...attributes, maxAge: maxAgeMs, signed: false });
    if (outcome.kind === 'refused') throw outcome.error;
    if (outcome.kind === 'redirect') {
      ctx.status = outcome.status;
      return ctx.redirect(outcome.location);
    }
    if (outcome.kind === 'tested') {
      // A test sign-in: the decision for the app to show; nobody is signed in.
      ctx.state.jitTestResult = outcome.result;
      return next();
    }
    if (outcome.result) ctx.state.jitResult = outcome.result;
    if (options.session === false) ctx.state.user = outcome.user;
    else await ctx.login(outcome.user);
    await next();
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
  const name = options.strategy ?? 'saml';
  return signInRoute('saml', () => registeredStrategy(passport, name), options);
}

/** `GET /auth/oidc/:connection/login` and `GET /auth/oidc/:connection/callback`. */
export function oidcAuthenticate(
  _passport: KoaAuthenticator,
  strategies: OidcStrategies,
  options: SsoRouteOptions,
): Middleware<SsoState> {
  return signInRoute('oidc', (connectionId) => strategies.strategyFor(connectionId), options);
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

/**
 * Admission of SAML logins (`LoginAdmission`): mount it on the ACS route before the body parser, so
 * that a waiting login has not had its body read. A full waiting line is thrown as `SERVER_BUSY`
 * (503, `Retry-After`, for `jitErrorHandler`); a client that leaves while waiting gets nothing.
 */
export function admitLogins(admission: LoginAdmission): Middleware {
  return async (ctx, next) => {
    if (!(await admission.admit(ctx.req, ctx.res))) {
      // Nothing to answer: Koa must not write to the abandoned response.
      ctx.respond = false;
      return;
    }
    await next();
  };
}
