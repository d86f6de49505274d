import {
  ConfigurationError,
  defineConnection,
  type Connection,
  type ConnectionInput,
  type JitLogger,
  type Provisioner,
  type ProvisionerOptions,
} from '@jit-sso/core';
import {
  checkConnectionSettings,
  type LoginAdmission,
  type ReplayCache,
  type SamlValidationPool,
} from '@jit-sso/protocol';

/**
 * What `JitModule.forRoot` / `forRootAsync` take: the engine's options (store, connections, tenants,
 * resolver, event listener), or an engine the app already built (`provisioner`, e.g. shared with its
 * SCIM service), and what the SAML and OIDC strategies need. Checked when the module starts, so a
 * wrong connection stops the app at boot instead of failing the first login.
 */
export type JitModuleOptions = (ProvisionerOptions | SharedEngineOptions) & JitProtocolOptions;

export interface SharedEngineOptions {
  /** An engine built with `createProvisioner`; the module uses it as is. */
  provisioner: Provisioner;
  /** The engine's connections, when known, so that their protocol settings are checked at start-up. */
  connections?: readonly ConnectionInput[];
}

export interface JitProtocolOptions {
  /**
   * Where SAML request ids and consumed assertion ids are kept: `RedisReplayCache` when the app runs
   * in more than one process, `MemoryReplayCache` for one. Required when a connection is SAML.
   */
  replayCache?: ReplayCache;
  /**
   * Validates SAML responses on the pool's worker threads instead of the event loop (default:
   * in-process). The app closes it at shutdown (`pool.close()`).
   */
  samlValidationPool?: SamlValidationPool;
  /**
   * Admission of SAML logins: at most `limit` ACS posts are handled at once, the others wait their
   * turn, and a full waiting line answers `SERVER_BUSY` (503, `Retry-After`). Nest has parsed the
   * body by the time `SamlAuthGuard` runs.
   */
  loginAdmission?: LoginAdmission;
  /** The route parameter that names the connection (default `connection`). */
  connectionParam?: string;
  /** The tenant being signed into, when the app knows it from the request; the connection must belong to it. */
  tenantId?(request: unknown): string | undefined;
  /**
   * Where the exception filter logs refusals answered with a 5xx (a store or identity provider that
   * failed), with their cause; `console` and pino loggers fit. Default console.
   */
  logger?: JitLogger;
}

/** Checks what the engine does not: the shape of the options and each connection's protocol settings. */
export function checkModuleOptions(options: unknown): asserts options is JitModuleOptions {
  if (!options || typeof options !== 'object') {
    throw new ConfigurationError('JitModule needs an options object with a store and connections.');
  }
  const { store, connections, replayCache, provisioner } = options as Partial<
    ProvisionerOptions & SharedEngineOptions & JitProtocolOptions
  >;
  if (provisioner !== undefined) {
    if (typeof provisioner?.provision !== 'function' || typeof provisioner.getActiveUser !== 'function') {
      throw new ConfigurationError(
        'JitModule options.provisioner must be an engine built with createProvisioner.',
      );
    }
    if (store !== undefined) {
      throw new ConfigurationError('JitModule takes either options.provisioner or options.store, not both.');
    }
  } else if (!store || typeof store.transaction !== 'function' || typeof store.findUserById !== 'function') {
    throw new ConfigurationError(
      'JitModule options.store must implement IdentityStore (MemoryStore, TypeormStore or your own).',
    );
  }
  if (provisioner === undefined && !Array.isArray(connections) && typeof connections !== 'function') {
    throw new ConfigurationError(
      'JitModule options.connections must be a list of connections or a loader function.',
    );
  }
  if (replayCache !== undefined && typeof replayCache?.consume !== 'function') {
    throw new ConfigurationError('JitModule options.replayCache must be a ReplayCache (RedisReplayCache).');
  }
  const listed = Array.isArray(connections)
    ? (connections as ConnectionInput[]).map((input) => defineConnection(input))
    : (provisioner?.listConnections?.() ?? []);
  for (const connection of listed) checkProtocolSettings(connection, replayCache);
}

/** A connection's `protocolOptions` as the strategies will read them; a connection loader's are checked on first use. */
function checkProtocolSettings(connection: Connection, replayCache: ReplayCache | undefined): void {
  checkConnectionSettings(connection);
  if (connection.protocol === 'saml' && !replayCache) {
    throw new ConfigurationError(
      `Connection "${connection.id}" is a SAML connection: JitModule options.replayCache is required (RedisReplayCache).`,
    );
  }
}
