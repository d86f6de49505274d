import type {
  ConfigurationEvent,
  ConfigurationEventQuery,
  ConfigurationStore,
  ConfigurationTransaction,
  LoadedConnection,
  StoredConnection,
  StoredDomain,
  StoredTenant,
} from './configuration.js';
import { StoreConflictError } from './errors.js';

interface State {
  version: number;
  tenants: Map<string, StoredTenant>;
  connections: Map<string, StoredConnection>;
  domains: Map<string, StoredDomain>;
  events: ConfigurationEvent[];
}

const copy = (state: State): State => ({
  version: state.version,
  tenants: new Map(state.tenants),
  connections: new Map(state.connections),
  domains: new Map(state.domains),
  events: [...state.events],
});

const byVersion = (a: ConfigurationEvent, b: ConfigurationEvent) =>
  a.version - b.version || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Frozen deep copies: a caller never holds a record the store keeps. */
const frozen = <T>(value: T): T => Object.freeze(structuredClone(value));

function reader(state: () => State) {
  return {
    async getTenant(id: string) {
      return state().tenants.get(id) ?? null;
    },
    async getConnection(id: string) {
      return state().connections.get(id) ?? null;
    },
    async listConnections(tenantId: string) {
      return [...state().connections.values()]
        .filter((c) => c.tenantId === tenantId)
        .sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    async getDomain(domain: string) {
      return state().domains.get(domain) ?? null;
    },
    async listDomains(tenantId: string) {
      return [...state().domains.values()]
        .filter((d) => d.tenantId === tenantId)
        .sort((a, b) => (a.domain < b.domain ? -1 : 1));
    },
    async listConfigurationEvents(query: ConfigurationEventQuery) {
      return state()
        .events.filter(
          (e) =>
            (query.tenantId === undefined || e.tenantId === query.tenantId) &&
            (query.afterVersion === undefined || e.version > query.afterVersion),
        )
        .sort(byVersion)
        .slice(0, query.limit);
    },
  };
}

/**
 * An in-process configuration store for tests and demos. Transactions run one at a time on a copy
 * of the state, which replaces it when they commit, so a failed transaction leaves nothing behind.
 */
export class MemoryConfigurationStore implements ConfigurationStore {
  private state: State = {
    version: 0,
    tenants: new Map(),
    connections: new Map(),
    domains: new Map(),
    events: [],
  };
  private queue: Promise<unknown> = Promise.resolve();
  private readonly read = reader(() => this.state);

  getTenant = this.read.getTenant;
  getConnection = this.read.getConnection;
  listConnections = this.read.listConnections;
  getDomain = this.read.getDomain;
  listDomains = this.read.listDomains;
  listConfigurationEvents = this.read.listConfigurationEvents;

  async configurationVersion(): Promise<number> {
    return this.state.version;
  }

  async loadConnection(id: string): Promise<LoadedConnection | null> {
    const state = this.state;
    const connection = state.connections.get(id);
    if (!connection) return null;
    return {
      connection,
      tenant: state.tenants.get(connection.tenantId) ?? null,
      verifiedDomains: [...state.domains.values()]
        .filter((d) => d.tenantId === connection.tenantId && d.status === 'verified')
        .map((d) => d.domain)
        .sort(),
    };
  }

  configurationTransaction<T>(work: (tx: ConfigurationTransaction) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const draft = copy(this.state);
      const tx: ConfigurationTransaction = {
        ...reader(() => draft),
        async nextVersion() {
          draft.version += 1;
          return draft.version;
        },
        async putTenant(tenant) {
          draft.tenants.set(tenant.id, frozen(tenant));
        },
        async deleteTenant(id) {
          draft.tenants.delete(id);
        },
        async putConnection(connection) {
          draft.connections.set(connection.id, frozen(connection));
        },
        async deleteConnection(id) {
          draft.connections.delete(id);
        },
        async insertDomain(domain) {
          if (draft.domains.has(domain.domain)) throw new StoreConflictError('other');
          draft.domains.set(domain.domain, frozen(domain));
        },
        async updateDomain(domain) {
          draft.domains.set(domain.domain, frozen(domain));
        },
        async deleteDomain(domain) {
          draft.domains.delete(domain);
        },
        async appendConfigurationEvent(event) {
          draft.events.push(frozen(event));
        },
      };
      const result = await work(tx);
      this.state = draft;
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
