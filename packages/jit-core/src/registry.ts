import {
  defineConnection,
  defineTenant,
  type Connection,
  type ConnectionInput,
  type Tenant,
  type TenantInput,
} from './connection.js';
import { ConfigurationError, UnknownConnectionError } from './errors.js';

/** The provisioner's connections and tenants, validated when it is built. */
export interface Registry {
  tenantOf(id: string): Tenant;
  /** A connection already validated, without waiting: the fast path of every login. */
  cached(id: string): Connection | undefined;
  getConnection(id: string): Promise<Connection>;
  /** The connections given as a list; none when they come from a loader. */
  readonly listed: readonly Connection[];
}

export function createRegistry(
  connectionsInput: readonly ConnectionInput[] | ((id: string) => Promise<ConnectionInput | null>),
  tenantsInput: readonly TenantInput[],
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
      if (tenants.size > 0 && !tenants.has(connection.tenantId)) {
        // With tenants configured, an unknown one is a typo that would silently lift its seat limit.
        throw new ConfigurationError(
          `Connection "${connection.id}" names tenant "${connection.tenantId}", which is not among the configured tenants.`,
        );
      }
      connections.set(connection.id, connection);
    }
  }

  async function getConnection(id: string): Promise<Connection> {
    const known = connections.get(id);
    if (known) return known;
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

  return {
    tenantOf: (id) => tenants.get(id) ?? { id, seatLimit: null, requireProvisionedUsers: false },
    cached: (id) => connections.get(id),
    getConnection,
    listed: Object.freeze(loader ? [] : [...connections.values()]),
  };
}
