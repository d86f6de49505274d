import * as client from 'openid-client';
import { Strategy, type AuthenticateOptions, type VerifyFunctionWithRequest } from 'openid-client/passport';
import {
  ConfigurationError,
  JitError,
  UnknownConnectionError,
  type Connection,
  type Provisioner,
} from '@jit-sso/core';
import { markOidcTestSignIn, oidcVerify, type OidcVerifyDone } from './oidc-verify.js';
import { TEST_SIGN_IN_RELAY_STATE } from './saml-verify.js';
import { readOidcSettings } from './oidc-settings.js';
import { isEntraMultiTenantIssuer } from './entra.js';
import { checkProvisionerConnections } from './connection-settings.js';

/** The request type openid-client's passport strategy is declared with. */
type StrategyRequest = Parameters<Strategy['authorizationRequestParams']>[0];

/**
 * openid-client's passport strategy, with a `state` and a `nonce` in every authorization request
 * (besides PKCE, which it always uses), so the callback and the ID token are both bound to the
 * browser that started the sign-in.
 */
// openid-client's strategy calls `success(user)` without the verify step's `info`, which carries the
// provisioning result; the verify wrapper below keeps it per request and `authenticate` hands it on.
const verifiedInfo = new WeakMap<object, object>();

/** The mark a test sign-in leaves in the login's server-side state (openid-client's session entry). */
const TEST_MARK = 'jit-sso:test';

/**
 * A test sign-in (`/auth/oidc/:connection/login?RelayState=jit-sso:test-sign-in`) is decided when the
 * login starts and kept in the login's server-side state (the session entry holding `state`, `nonce`
 * and the PKCE verifier, bound to this browser); the callback reads it from there only, so nothing a
 * callback URL carries can make a normal login a test or a test a normal login.
 */
export class JitOidcStrategy extends Strategy {
  private readonly loginStateKey: string | undefined;

  constructor(...args: ConstructorParameters<typeof Strategy>) {
    super(...args);
    this.loginStateKey = args[0].sessionKey;
  }

  override authenticate(req: StrategyRequest, options: AuthenticateOptions): void {
    // `success` and `redirect` are the per-request functions passport puts on the strategy before calling this.
    const self = this as unknown as {
      success(user: unknown, info?: object): void;
      redirect(url: string, status?: number): void;
    };
    const success = self.success.bind(this);
    self.success = (user, info) => success(user, info ?? verifiedInfo.get(req));
    const key = this.loginStateKey;
    const session = (req as unknown as { session?: Record<string, unknown> }).session;
    if (key && session) {
      // At the callback: openid-client deletes the login state as it reads it, so read the mark first.
      const pending = session[key] as Record<string, unknown> | undefined;
      if (pending?.[TEST_MARK] === true) markOidcTestSignIn(req);
      // At the start: the mark goes into the login state openid-client has just written.
      if (this.currentUrl(req).searchParams.get('RelayState') === TEST_SIGN_IN_RELAY_STATE) {
        const redirect = self.redirect.bind(this);
        self.redirect = (url, status) => {
          const started = session[key] as Record<string, unknown> | undefined;
          if (started && typeof started === 'object') started[TEST_MARK] = true;
          redirect(url, status);
        };
      }
    }
    return super.authenticate(req, options);
  }

  override authorizationRequestParams(req: StrategyRequest, options: AuthenticateOptions): URLSearchParams {
    const base = super.authorizationRequestParams(req, options);
    const params = base instanceof URLSearchParams ? base : new URLSearchParams(base ?? {});
    params.set('state', client.randomState());
    params.set('nonce', client.randomNonce());
    return params;
  }
}

/**
 * The openid-client configuration of an OIDC connection, from its issuer's discovery document:
 * the discovery document must name the connection's issuer (a multi-tenant Entra issuer publishes
 * the template `.../{tenantid}/v2.0`), and `enableNonRepudiationChecks` makes the ID token's
 * signature be verified against the issuer's JWKS. An issuer that does not answer is
 * `IDP_UNREACHABLE`.
 */
export async function discoverOidcConfiguration(connection: Connection): Promise<client.Configuration> {
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
        { cause: error },
      );
    });
  const published = config.serverMetadata().issuer;
  const template = isEntraMultiTenantIssuer(connection.issuer) && isEntraMultiTenantIssuer(published);
  if (published !== connection.issuer && !template) {
    throw new ConfigurationError(
      `Connection "${connection.id}": the discovery document names another issuer.`,
    );
  }
  client.enableNonRepudiationChecks(config);
  return config;
}

/**
 * The verify callback of a connection's strategy: the request, openid-client's tokens, passport's
 * `done` (typed here, not by passport, so that an app's `Express.User` does not constrain it).
 */
export type OidcStrategyVerify<R = unknown> = (
  req: R,
  tokens: Parameters<VerifyFunctionWithRequest>[1],
  done: OidcVerifyDone,
) => void;

/**
 * The passport strategy of one OIDC connection (named `oidc:<connection id>`), on the configuration
 * `discoverOidcConfiguration` returns, with the connection's redirect URI and scope.
 */
export async function createOidcStrategy<R = unknown>(
  connection: Connection,
  verify: OidcStrategyVerify<R>,
): Promise<JitOidcStrategy> {
  const config = await discoverOidcConfiguration(connection);
  const settings = readOidcSettings(connection);
  return new JitOidcStrategy(
    {
      config,
      name: `oidc:${connection.id}`,
      sessionKey: `jit-sso:oidc:${connection.id}`,
      callbackURL: settings.redirectUri,
      scope: settings.scope ?? 'openid email profile',
      passReqToCallback: true,
    },
    (req, tokens, done) =>
      verify(req as R, tokens, (error, user, info) => {
        if (info && typeof info === 'object' && !Array.isArray(info)) verifiedInfo.set(req, info);
        // The user is the engine's `UserRecord`, whatever an app declared `Express.User` to be.
        done(error, user as Parameters<typeof done>[1], info);
      }),
  );
}

export interface OidcStrategiesOptions<R = unknown> {
  provisioner: Provisioner;
  /** The tenant being signed into, when the app knows it from the request. */
  tenantId?(req: R): string | undefined;
}

export interface OidcStrategies {
  /**
   * The strategy of a connection, built again when the connection changed (stored configuration);
   * a failed discovery is retried at the next call.
   */
  strategyFor(connectionId: string): Promise<JitOidcStrategy>;
}

/**
 * One strategy per OIDC connection, built on first use from the issuer's discovery document, whose
 * verify step checks the Entra `tid` allow-list and runs the provisioning decision. Every OIDC
 * connection's settings are checked here, at start-up; discovery waits for the first sign-in.
 */
export function createOidcStrategies<R = unknown>(options: OidcStrategiesOptions<R>): OidcStrategies {
  checkProvisionerConnections(options.provisioner, 'oidc');
  // One strategy per connection snapshot: a changed connection is a new object, and gets a new strategy.
  const strategies = new Map<string, { connection: Connection; strategy: Promise<JitOidcStrategy> }>();

  function build(connection: Connection): Promise<JitOidcStrategy> {
    return createOidcStrategy<R>(
      connection,
      oidcVerify<R>({
        provisioner: options.provisioner,
        connectionId: connection.id,
        connection,
        ...(options.tenantId ? { tenantId: options.tenantId } : {}),
      }),
    );
  }

  return {
    async strategyFor(connectionId: string): Promise<JitOidcStrategy> {
      const connection = await options.provisioner.getConnection(connectionId);
      const found = strategies.get(connectionId);
      if (found && found.connection === connection) return found.strategy;
      const entry = { connection, strategy: build(connection) };
      strategies.set(connectionId, entry);
      entry.strategy.catch(() => {
        if (strategies.get(connectionId) === entry) strategies.delete(connectionId);
      });
      return entry.strategy;
    },
  };
}
