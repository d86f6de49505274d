import { uuidv7 } from './ids.js';
import type { ConnectionInput } from './connection.js';
import type { AuditEvent, Change } from './model.js';

/**
 * Configuration kept in a database and changed at run time (tenants, connections, verified domains),
 * instead of read once at start-up. Every change takes the next value of one counter, the
 * configuration version, and is recorded with its actor in the same transaction (see
 * `changeConfiguration`); an app's copies notice a change by reading that counter.
 */

/** A tenant's settings as stored. */
export interface StoredTenant {
  readonly id: string;
  readonly displayName: string | null;
  /** Most active users the tenant may have; `null` for no limit. */
  readonly seatLimit: number | null;
  readonly requireProvisionedUsers: boolean;
  /** The configuration version of its last change. */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * A connection as stored: the `ConnectionInput` an app would write by hand, without verified domains
 * (the tenant's verified domains apply to every connection of the tenant).
 */
export interface StoredConnection {
  readonly id: string;
  readonly tenantId: string;
  readonly definition: ConnectionInput;
  /** The configuration version of its last change. */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type DomainStatus = 'pending' | 'verified';

/** An email domain a tenant claims; JIT creation and linking by email trust it once verified. */
export interface StoredDomain {
  /** Normalised (lower case, punycode as the email normaliser leaves it); unique across tenants. */
  readonly domain: string;
  readonly tenantId: string;
  readonly status: DomainStatus;
  /** The random value the tenant publishes in a DNS TXT record to prove it owns the domain. */
  readonly challenge: string;
  readonly version: number;
  readonly createdAt: Date;
  readonly verifiedAt: Date | null;
}

export type ConfigurationAction =
  | 'tenant.saved'
  | 'tenant.deleted'
  | 'connection.created'
  | 'connection.updated'
  | 'connection.deleted'
  | 'domain.claimed'
  | 'domain.verified'
  | 'domain.released'
  | 'scim-token.issued'
  | 'scim-token.revoked';

/** One configuration change, as recorded: what, by whom, at which version. */
export interface ConfigurationEvent {
  readonly id: string;
  readonly at: Date;
  readonly version: number;
  readonly tenantId: string;
  /** Who made the change: the administrator's id as the app names them, or `import`, `system`. */
  readonly actor: string;
  readonly action: ConfigurationAction;
  /** The tenant id, connection id or domain changed. */
  readonly target: string;
  /** Field by field; secrets (client secrets, private keys) appear as `[redacted]`. */
  readonly changes: readonly Change[];
}

/** A connection with what it needs to be used: its tenant and the tenant's verified domains, read together. */
export interface LoadedConnection {
  readonly connection: StoredConnection;
  readonly tenant: StoredTenant | null;
  readonly verifiedDomains: readonly string[];
}

export interface ConfigurationEventQuery {
  tenantId?: string;
  /** Events with a version above this one. */
  afterVersion?: number;
  limit: number;
}

export interface ConfigurationReader {
  getTenant(id: string): Promise<StoredTenant | null>;
  getConnection(id: string): Promise<StoredConnection | null>;
  listConnections(tenantId: string): Promise<StoredConnection[]>;
  getDomain(domain: string): Promise<StoredDomain | null>;
  listDomains(tenantId: string): Promise<StoredDomain[]>;
  /** Events ordered by version (then id), at most `limit`. */
  listConfigurationEvents(query: ConfigurationEventQuery): Promise<ConfigurationEvent[]>;
}

/**
 * The contract a configuration store implements (memory for tests, TypeORM on SQLite, PostgreSQL
 * and MariaDB). Rules:
 *
 * - "Not found" is `null`, never an exception.
 * - `configurationVersion()` is one small read: every copy of the app calls it a few times a second.
 * - `nextVersion()` increments the version and holds it until the transaction ends, so that
 *   configuration writers run one at a time and versions are committed in order.
 * - `insertDomain` throws `StoreConflictError('other')` when the domain is held by any tenant: the
 *   database's unique key decides, across processes.
 * - `configurationTransaction(fn)` commits when `fn` resolves, rolls back when it throws, and
 *   rethrows; infrastructure failures are `StoreError`.
 */
export interface ConfigurationStore extends ConfigurationReader {
  configurationVersion(): Promise<number>;
  /** A connection, its tenant and the tenant's verified domains, in one consistent read. */
  loadConnection(id: string): Promise<LoadedConnection | null>;
  configurationTransaction<T>(work: (tx: ConfigurationTransaction) => Promise<T>): Promise<T>;
}

export interface ConfigurationTransaction extends ConfigurationReader {
  nextVersion(): Promise<number>;
  /** Inserts or replaces the tenant. */
  putTenant(tenant: StoredTenant): Promise<void>;
  deleteTenant(id: string): Promise<void>;
  /** Inserts or replaces the connection. */
  putConnection(connection: StoredConnection): Promise<void>;
  deleteConnection(id: string): Promise<void>;
  insertDomain(domain: StoredDomain): Promise<void>;
  updateDomain(domain: StoredDomain): Promise<void>;
  deleteDomain(domain: string): Promise<void>;
  appendConfigurationEvent(event: ConfigurationEvent): Promise<void>;
}

/** What `changeConfiguration` records about a change. */
export interface ConfigurationChangeFields {
  readonly tenantId: string;
  readonly actor: string;
  readonly action: ConfigurationAction;
  readonly target: string;
  readonly at?: Date;
}

/**
 * The one way configuration changes: in one transaction, takes the next version, runs `work` (which
 * writes the records with that version and returns what changed), and records the event with its
 * actor. Nothing is written when `work` throws. `onCommitted` runs after the commit (a
 * notification, an outbox), never undoing it.
 */
export async function changeConfiguration<T>(
  store: ConfigurationStore,
  fields: ConfigurationChangeFields,
  work: (
    tx: ConfigurationTransaction,
    version: number,
    at: Date,
  ) => Promise<{ result: T; changes: readonly Change[] }>,
  onCommitted?: (event: ConfigurationEvent) => void | Promise<void>,
): Promise<{ result: T; event: ConfigurationEvent }> {
  const at = fields.at ?? new Date();
  const done = await store.configurationTransaction(async (tx) => {
    const version = await tx.nextVersion();
    const { result, changes } = await work(tx, version, at);
    const event: ConfigurationEvent = Object.freeze({
      id: uuidv7(at),
      at,
      version,
      tenantId: fields.tenantId,
      actor: fields.actor,
      action: fields.action,
      target: fields.target,
      changes: Object.freeze(changes.map((c) => Object.freeze({ ...c }))),
    });
    await tx.appendConfigurationEvent(event);
    return { result, event };
  });
  if (onCommitted) {
    try {
      await onCommitted(done.event);
    } catch (error) {
      console.error('jit: configuration change listener failed', error);
    }
  }
  return done;
}

const CHANGE_OF_ACTION: Record<ConfigurationAction, 'created' | 'updated' | 'deleted'> = {
  'tenant.saved': 'updated',
  'tenant.deleted': 'deleted',
  'connection.created': 'created',
  'connection.updated': 'updated',
  'connection.deleted': 'deleted',
  'domain.claimed': 'created',
  'domain.verified': 'updated',
  'domain.released': 'deleted',
  'scim-token.issued': 'created',
  'scim-token.revoked': 'deleted',
};

/** The most field names a configuration change's audit event lists. */
const MAX_AUDITED_FIELDS = 100;

/**
 * The audit event of a configuration change, which a store with an outbox writes in the change's
 * transaction: its lifecycle event is `config.changed`, with the same id as the change. It keeps the
 * object (`tenant`, `connection`, `domain`, as `reason`), its id, the action and the names of the
 * fields changed, never their values; the administrator's id is its `subject`. `null` for a SCIM
 * token issued or revoked: the directory store audits the token itself (reason `scim-token`), and
 * that audit event is the change's one `config.changed` event.
 */
export function configurationAuditEvent(event: ConfigurationEvent): AuditEvent | null {
  if (event.action.startsWith('scim-token.')) return null;
  const change = CHANGE_OF_ACTION[event.action] ?? 'updated';
  const object = event.action.split('.')[0]!;
  const fields = [...new Set(event.changes.map((c) => c.field))].sort().slice(0, MAX_AUDITED_FIELDS);
  return Object.freeze({
    id: event.id,
    at: event.at,
    tenantId: event.tenantId,
    actor: event.actor === 'system' ? 'system' : 'admin',
    action: change,
    connectionId: object === 'connection' ? event.target : null,
    subject: event.actor,
    userId: null,
    reason: object,
    changes: Object.freeze([
      {
        field: object,
        from: change === 'created' ? null : event.target,
        to: change === 'deleted' ? null : event.target,
      },
      { field: 'action', from: null, to: event.action },
      { field: 'fields', from: null, to: fields },
    ]),
  });
}

const SECRET_FIELDS = /secret|privatekey|password|token/i;

/**
 * The changes between two JSON-like values, leaf by leaf, named by their dotted path. Values under a
 * secret-looking key (client secret, private key, password, token) are recorded as `[redacted]`.
 */
export function diffConfiguration(before: unknown, after: unknown, path = ''): Change[] {
  const secret = SECRET_FIELDS.test(path.split('.').pop() ?? '');
  const shown = (v: unknown) => (secret && v !== undefined && v !== null ? '[redacted]' : (v ?? null));
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffConfiguration(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if ((isObject(before) && after == null) || (before == null && isObject(after))) {
    return diffConfiguration(before ?? {}, after ?? {}, path);
  }
  return [{ field: path || '(root)', from: shown(before), to: shown(after) }];
}
