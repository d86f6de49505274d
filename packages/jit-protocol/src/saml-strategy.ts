import { AbstractStrategy, MultiSamlStrategy, SAML, type SamlConfig } from '@node-saml/passport-saml';
import type { Strategy } from 'passport';
import { UnknownConnectionError, type Connection, type Provisioner } from '@jit-sso/core';
import { samlOptionsFor } from './saml-options.js';
import { samlVerify } from './saml-verify.js';
import type { ReplayCache } from './replay-cache.js';
import { connectionIdOf, type SsoRequest } from './connection-param.js';
import { checkProvisionerConnections } from './connection-settings.js';
import { bindLoginsOf } from './login-binding.js';
import type { SamlValidationPool } from './saml-pool.js';

export interface SamlStrategyOptions<R extends SsoRequest = SsoRequest> {
  provisioner: Provisioner;
  /** Shared by every process of the app: `RedisReplayCache`, or `MemoryReplayCache` for one process. */
  replayCache: ReplayCache;
  /** The route parameter naming the connection (default `connection`). */
  connectionParam?: string;
  /** The tenant being signed into, when the app knows it from the request; the connection must belong to it. */
  tenantId?(req: R): string | undefined;
  /** The passport strategy name (default `saml`). */
  name?: string;
  /**
   * Validates SAML responses on the pool's worker threads instead of the event loop. Without it
   * (the default), node-saml validates in-process, as before.
   */
  samlValidationPool?: SamlValidationPool;
}

/**
 * passport-saml's `MultiSamlStrategy` as the app uses it: a passport strategy that also writes a
 * connection's SP metadata. Declared here so that the package's types never name passport-saml's,
 * which bring Express 4's request types into an app (and clash with Express 5's).
 */
export interface SamlStrategy extends Strategy {
  generateServiceProviderMetadata(
    req: unknown,
    decryptionCert: string | null,
    signingCert: string | string[] | null,
    callback: (error: Error | null, metadata?: string) => void,
  ): void;
}

/**
 * A passport-saml `MultiSamlStrategy` that picks the connection from the route parameter at each
 * request, with node-saml set up safely from the connection's `protocolOptions.saml`, and a verify
 * step that makes the remaining SAML checks and runs the provisioning decision. Any passport-style
 * request with `params` and `body` will do (Express, koa-passport, NestJS on Express). Every SAML
 * connection of the provisioner is checked here, so a bad certificate or URL stops the boot.
 */
export function createSamlStrategy<R extends SsoRequest = SsoRequest>(
  options: SamlStrategyOptions<R>,
): SamlStrategy {
  checkProvisionerConnections(options.provisioner, 'saml');
  const param = options.connectionParam ?? 'connection';
  const connectionId = (req: R) => connectionIdOf(req, param);
  // The connection each request's response is checked with, handed to the verify step.
  const resolved = new WeakMap<object, Connection>();
  const verify = samlVerify<R>({
    connectionOf: (req) => resolved.get(req as object),
    provisioner: options.provisioner,
    replayCache: options.replayCache,
    connectionId,
    ...(options.tenantId ? { tenantId: options.tenantId } : {}),
    relayState: (req) => {
      const relayState = (req.body as { RelayState?: unknown } | undefined)?.RelayState;
      return typeof relayState === 'string' ? relayState : undefined;
    },
  });
  // passport-saml is typed against Express 4's request type; at run time it is the app's request.
  type SamlRequest = ConstructorParameters<typeof MultiSamlStrategy>[0] extends {
    getSamlOptions(req: infer Q, cb: never): void;
  }
    ? Q
    : never;
  const Strategy = options.samlValidationPool
    ? pooledMultiSamlStrategy(options.samlValidationPool)
    : MultiSamlStrategy;
  const strategy = new Strategy(
    {
      name: options.name ?? 'saml',
      passReqToCallback: true,
      getSamlOptions(req, done) {
        options.provisioner
          .getConnection(connectionId(req as unknown as R))
          .then((connection) => {
            // An OIDC connection has no SAML endpoints.
            if (connection.protocol !== 'saml') throw new UnknownConnectionError(connection.id);
            resolved.set(req as object, connection);
            done(null, samlOptionsFor(connection, options.replayCache));
          })
          .catch((error: Error) => done(error));
      },
    },
    (req: SamlRequest, profile, done) => verify(req as unknown as R, profile, done),
    // Single logout is not handled: the app ends its own session at /logout.
    (
      _req: SamlRequest,
      _profile: unknown,
      done: (error: Error | null, user?: Record<string, unknown>) => void,
    ) => done(null, undefined),
  );
  return bindLoginsOf(strategy, options.replayCache) as unknown as SamlStrategy;
}

/**
 * passport-saml's `MultiSamlStrategy` whose node-saml sends the validation of a posted response to
 * the pool; the rest (AuthnRequests, metadata, the verify step) is passport-saml's own.
 */
function pooledMultiSamlStrategy(pool: SamlValidationPool): typeof MultiSamlStrategy {
  return class PooledMultiSamlStrategy extends MultiSamlStrategy {
    override authenticate(req: Parameters<MultiSamlStrategy['authenticate']>[0], options: object) {
      authenticateInPool(this, pool, req, options);
    }
  };
}

/**
 * `MultiSamlStrategy.authenticate` of passport-saml (for `strategy`, a `MultiSamlStrategy` or a
 * subclass, as passport calls it), with node-saml's validation of a posted response made by the
 * pool. For strategies the app or an adapter declares itself (Nest's `JitSamlStrategy`).
 */
export function authenticateInPool(
  strategy: object,
  pool: SamlValidationPool,
  request: unknown,
  options: object,
): void {
  const self = strategy as MultiSamlStrategy;
  const req = request as Parameters<MultiSamlStrategy['authenticate']>[0];
  self._options.getSamlOptions(req, (error, samlOptions) => {
    if (error || !samlOptions) return self.error(error ?? new Error('No SAML options for this request.'));
    const config = samlOptions as SamlConfig;
    const saml = new SAML({ ...self._options, ...config } as SamlConfig);
    saml.validatePostResponseAsync = (container) =>
      pool.validatePostResponse(config, container) as ReturnType<SAML['validatePostResponseAsync']>;
    // As passport-saml does: a copy of the strategy (with passport's actions) holding this SAML.
    const attempt = Object.assign({}, self, { _saml: saml });
    Object.setPrototypeOf(attempt, self);
    AbstractStrategy.prototype.authenticate.call(attempt, req, options as never);
  });
}
