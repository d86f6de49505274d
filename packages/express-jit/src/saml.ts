import type { Request, RequestHandler } from 'express';
import { MultiSamlStrategy } from '@node-saml/passport-saml';
import type { Strategy } from 'passport';
import { UnknownConnectionError, type Provisioner } from '@jit-sso/core';
import { readSamlSettings, samlOptionsFor } from './protocol/saml-options.js';
import { samlVerify } from './protocol/saml-verify.js';
import type { ReplayCache } from './protocol/replay-cache.js';
import { connectionIdOf } from './request.js';

export interface SamlStrategyOptions {
  provisioner: Provisioner;
  /** Shared by every process of the app: `RedisReplayCache`, or `MemoryReplayCache` for one process. */
  replayCache: ReplayCache;
  /** The route parameter naming the connection (default `connection`). */
  connectionParam?: string;
  /** The tenant being signed into, when the app knows it from the request; the connection must belong to it. */
  tenantId?(req: Request): string | undefined;
  /** The passport strategy name (default `saml`). */
  name?: string;
}

/**
 * A passport-saml `MultiSamlStrategy` that picks the connection from the URL at each request, with
 * node-saml set up safely from the connection's `protocolOptions.saml`, and a verify step that makes
 * the remaining SAML checks and runs the provisioning decision.
 */
export function createSamlStrategy(options: SamlStrategyOptions): MultiSamlStrategy & Strategy {
  const param = options.connectionParam ?? 'connection';
  const connectionId = (req: Request) => connectionIdOf(req, param);
  const verify = samlVerify<Request>({
    provisioner: options.provisioner,
    replayCache: options.replayCache,
    connectionId,
    ...(options.tenantId ? { tenantId: options.tenantId } : {}),
    relayState: (req) => (typeof req.body?.RelayState === 'string' ? req.body.RelayState : undefined),
  });
  // passport-saml is typed against Express 4's request type; at run time it is this app's request.
  type SamlRequest = ConstructorParameters<typeof MultiSamlStrategy>[0] extends {
    getSamlOptions(req: infer R, cb: never): void;
  }
    ? R
    : never;
  const strategy = new MultiSamlStrategy(
    {
      name: options.name ?? 'saml',
      passReqToCallback: true,
      getSamlOptions(req, done) {
        options.provisioner
          .getConnection(connectionId(req as unknown as Request))
          .then((connection) => {
            // An OIDC connection has no SAML endpoints.
            if (connection.protocol !== 'saml') throw new UnknownConnectionError(connection.id);
            done(null, samlOptionsFor(connection, options.replayCache));
          })
          .catch((error: Error) => done(error));
      },
    },
    (req: SamlRequest, profile, done) => verify(req as unknown as Request, profile, done),
    // Single logout is not handled: the app ends its own session at /logout.
    (
      _req: SamlRequest,
      _profile: unknown,
      done: (error: Error | null, user?: Record<string, unknown>) => void,
    ) => done(null, undefined),
  );
  return strategy as MultiSamlStrategy & Strategy;
}

/** `GET .../metadata`: the SP metadata of the connection in the URL (entity id, ACS URL, signing certificate). */
export function samlMetadata(
  strategy: MultiSamlStrategy,
  options: { provisioner: Provisioner; connectionParam?: string },
): RequestHandler {
  const param = options.connectionParam ?? 'connection';
  return (req, res, next) => {
    options.provisioner
      .getConnection(connectionIdOf(req, param))
      .then((connection) => {
        if (connection.protocol !== 'saml') throw new UnknownConnectionError(connection.id);
        const settings = readSamlSettings(connection);
        strategy.generateServiceProviderMetadata(req as never, null, settings.publicCert, (error, xml) => {
          if (error) return next(error);
          res.type('application/samlmetadata+xml').send(xml);
        });
      })
      .catch(next);
  };
}
