import type { Connection, Provisioner } from '@jit-sso/core';
import { readOidcSettings } from './oidc-settings.js';
import { readSamlSettings } from './saml-options.js';

/**
 * Checks a connection's `protocolOptions` as the strategies will read them (URLs, certificates, keys,
 * client id): a mistake throws a `ConfigurationError` naming the connection and the field.
 */
export function checkConnectionSettings(connection: Connection): void {
  if (connection.protocol === 'saml') readSamlSettings(connection);
  else readOidcSettings(connection);
}

/**
 * Checks the protocol settings of every connection the provisioner was given as a list (of one
 * protocol when named), so that strategies built at start-up stop the boot instead of failing the
 * first login. Connections from a loader are checked as they load.
 */
export function checkProvisionerConnections(
  provisioner: Pick<Provisioner, 'listConnections'>,
  protocol?: Connection['protocol'],
): void {
  for (const connection of provisioner.listConnections?.() ?? []) {
    if (!protocol || connection.protocol === protocol) checkConnectionSettings(connection);
  }
}
