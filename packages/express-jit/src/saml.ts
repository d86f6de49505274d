import type { Request, RequestHandler } from 'express';
import { UnknownConnectionError, type Provisioner } from '@jit-sso/core';
import {
  createSamlStrategy as createProtocolSamlStrategy,
  readSamlSettings,
  type SamlStrategy,
  type SamlStrategyOptions as ProtocolSamlStrategyOptions,
  connectionIdOf,
} from '@jit-sso/protocol';

export type SamlStrategyOptions = ProtocolSamlStrategyOptions<Request>;

/**
 * A passport-saml `MultiSamlStrategy` that picks the connection from the URL at each request, with
 * node-saml set up safely from the connection's `protocolOptions.saml`, and a verify step that makes
 * the remaining SAML checks and runs the provisioning decision (`@jit-sso/protocol`).
 */
export function createSamlStrategy(options: SamlStrategyOptions): SamlStrategy {
  return createProtocolSamlStrategy<Request>(options);
}

/** `GET .../metadata`: the SP metadata of the connection in the URL (entity id, ACS URL, signing certificate). */
export function samlMetadata(
  strategy: SamlStrategy,
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
