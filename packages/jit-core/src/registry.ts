import {
  defineConnection,
  defineStoredConnection,
  defineTenant,
  type Connection,
  type ConnectionInput,
  type Tenant,
  type TenantInput,
} from './connection.js';
import type { ConfigurationStore, LoadedConnection, StoredTenant } from './configuration.js';
import { ConfigurationError, JitError, StoreError, UnknownConnectionError } from './errors.js';

/** The provisioner's connections and tenants, validated when it is built. */
export interface Registry {
  tenantOf(id: string): Tenant | Promise<Tenant>;
  /** A connection already validated, without waiting: the fast path of every login. */
  cached(id: string): Connection | undefined;
  getConnection(id: string): Promise<Connection>;
  /** The connections given as a list; none when they come from a loader. */
  readonly listed: readonly Connection[];
  /** Reads the configuration version now and forgets what a change made stale. */
  refresh(): Promise<void>;
  /** Stops watching the configuration store. */
  close(): void;
}

/** Connections and tenants kept in a configuration store, changed at run time. */
export interface StoredConfigurationOptions {
  store: ConfigurationStore;
  /**
   * How often each copy of the app reads the configuration version (one small read), in ms; a
   * change made through any copy is used by the next login on every copy within about this time.
   * Default 250.
   */
  pollIntervalMs?: number;
  /** Where a failed version read goes (the cached configuration keeps serving). Default: console.error. */
  onError?: (error: unknown) => void;
}

const DEFAULT_POLL_MS = 250;

export function createRegistry(
  connectionsInput: readonly ConnectionInput[] | ((id: string) => Promise<ConnectionInput | null>),
  tenantsInput: readonly TenantInput[],
  configuration?: StoredConfigurationOptions,
): Registry {
  const tenants = new Map<string, Tenant>();
  for (const input of tenantsInput) {
    const tenant = defineTenant(input);
    if (tenants.has(tenant.id)) throw new ConfigurationError(`Tenant "${tenant.id}" is configured twice.`);
    tenants.set(tenant.id, tenant);
  }
  const connections = new Map<string, Connection>();
  const loader = typeof connectionsInput === 'function' ? connectionsInput : null;
  if (!loader) {
    for (const input of connectionsInput as readonly ConnectionInput[]) {
      const connection = defineConnection(input);
      if (connections.has(connection.id)) {
        throw new ConfigurationError(`Connection "${connection.id}" is configured twice.`);
      }
      if (tenants.size > 0 && !tenants.has(connection.tenantId) && !configuration) {
        // With tenants configured, an unknown one is a typo that would silently lift its seat limit.
        throw new ConfigurationError(
          `Connection "${connection.id}" names tenant "${connection.tenantId}", which is not among the configured tenants.`,
        );
      }
      connections.set(connection.id, connection);
    }
  }
  const stored = configuration ? storedConfiguration(configuration) : null;

  async function getConnection(id: string): Promise<Connection> {
    const known = connections.get(id);
    if (known) return known;
    if (stored) {
      const found = await stored.connection(id);
      if (found) return found;
    }
    if (loader) {
      const input = await loader(id);
      if (input) {
        const connection = defineConnection(input);
        if (connection.id !== id)
          throw new ConfigurationError(`Connection loader returned "${connection.id}" for "${id}".`);
        connections.set(id, connection);
        return connection;
      }
    }
    throw new UnknownConnectionError(id);
  }

  const fallback = (id: string): Tenant => ({ id, seatLimit: null, requireProvisionedUsers: false });
  return {
    tenantOf: (id) => tenants.get(id) ?? (stored ? stored.tenant(id, fallback) : fallback(id)),
    cached: (id) => connections.get(id) ?? stored?.cached(id),
    getConnection,
    listed: Object.freeze(loader ? [] : [...connections.values()]),
    refresh: () => stored?.poll() ?? Promise.resolve(),
    close: () => stored?.close(),
  };
}

/**
 * The stored side of a registry: connections validated once and cached until the configuration
 * version moves. Each copy reads the version every `pollIntervalMs`; when it moved, everything
 * cached is forgotten and read again at its next use. A read that started before a change is
 * never cached after it (generations), and a connection already handed to a login is an immutable
 * snapshot, so the login finishes with the configuration it started with.
 */
function storedConfiguration(options: StoredConfigurationOptions) {
  const { store } = options;
  const interval = options.pollIntervalMs ?? DEFAULT_POLL_MS;
  if (!(interval > 0)) throw new ConfigurationError(`pollIntervalMs must be positive, not ${interval}.`);
  const report =
    options.onError ?? ((error) => console.error('jit: reading the configuration version failed', error));
  const connections = new Map<string, Connection>();
  const tenants = new Map<string, Tenant>();
  let version: number | null = null;
  let generation = 0;
  let polling: Promise<void> | null = null;

  async function readVersion(): Promise<void> {
    const current = await store.configurationVersion();
    if (current !== version) {
      if (version !== null) {
        connections.clear();
        tenants.clear();
        generation += 1;
      }
      version = current;
    }
  }

  function poll(): Promise<void> {
    polling ??= readVersion().finally(() => {
      polling = null;
    });
    return polling;
  }

  const timer = setInterval(() => {
    poll().catch(report);
  }, interval);
  timer.unref?.();

  const toTenant = (t: StoredTenant): Tenant =>
    defineTenant({
      id: t.id,
      ...(t.seatLimit === null ? {} : { seatLimit: t.seatLimit }),
      requireProvisionedUsers: t.requireProvisionedUsers,
    });

  function build(loaded: LoadedConnection): Connection {
    const { definition } = loaded.connection;
    return defineStoredConnection({
      ...definition,
      id: loaded.connection.id,
      tenantId: loaded.connection.tenantId,
      jit: { ...definition.jit, verifiedDomains: [...loaded.verifiedDomains] },
    });
  }

  async function read<T>(fetch: () => Promise<T>): Promise<{ value: T; fresh: boolean }> {
    // The version must be known before the read, so that a change after it is noticed.
    if (version === null) await poll();
    const before = generation;
    let value: T;
    try {
      value = await fetch();
    } catch (error) {
      if (error instanceof JitError) throw error;
      throw new StoreError('The configuration store failed while reading a connection.', error);
    }
    return { value, fresh: before === generation };
  }

  return {
    poll,
    close: () => clearInterval(timer),
    cached: (id: string) => connections.get(id),
    async connection(id: string): Promise<Connection | null> {
      const known = connections.get(id);
      if (known) return known;
      const { value: loaded, fresh } = await read(() => store.loadConnection(id));
      if (!loaded) return null;
      const connection = build(loaded);
      if (fresh) {
        connections.set(id, connection);
        if (loaded.tenant) tenants.set(loaded.tenant.id, toTenant(loaded.tenant));
      }
      return connection;
    },
    async tenant(id: string, fallback: (id: string) => Tenant): Promise<Tenant> {
      const known = tenants.get(id);
      if (known) return known;
      const { value: found, fresh } = await read(() => store.getTenant(id));
      const tenant = found ? toTenant(found) : fallback(id);
      if (fresh) tenants.set(id, tenant);
      return tenant;
    },
  };
}
