import type { DataSource, EntityMetadata, EntityTarget } from 'typeorm';
import {
  hasLifecycleEvent,
  StoreError,
  type AuditEvent,
  type ClaimedDelivery,
  type ClaimOptions,
  type DeliveryOutcome,
  type DeliveryQuery,
  type DeliveryRecord,
  type DeliveryStatus,
  type EndpointPatch,
  type LifecycleEvent,
  type OutboxStore,
  type WebhookEndpointRecord,
  type AuditQuery,
  type IdentityRecord,
  type IdentityStore,
  type IdentityWithUser,
  type NewIdentity,
  type NewUser,
  type SingleUse,
  type StoreConflictError,
  type StoreTransaction,
  type UserPatch,
  type UserQuery,
  type UserRecord,
  type UserStatus,
} from '@jit-sso/core';
import { JIT_USER_PROPERTIES, type JitUserProperty } from './columns.js';
import {
  JitAuditEventEntity,
  JitIdentityEntity,
  JitSingleUseEntity,
  JitTenantEntity,
  JitUserEntity,
} from './schema.js';
import { openDatabase, type Database, type Row, type Sql } from './sql.js';
import {
  JitOutboxEventEntity,
  JitOutboxPendingEntity,
  JitWebhookDeliveryEntity,
  JitWebhookEndpointEntity,
} from './outbox/schema.js';
import { OutboxSql } from './outbox/store.js';

export interface TypeormStoreOptions {
  /**
   * The app's own user entity (class, EntitySchema or entity name) in place of the shipped `JitUser`.
   * It must have the properties of `jitUserColumns` with the same column types; its table name, column
   * names and extra columns (nullable or with defaults) are the app's.
   */
  userEntity?: EntityTarget<unknown>;
  /**
   * Whether `appendAudit` also writes the lifecycle event of each change to the outbox (default
   * true). `false` is for apps that neither deliver webhooks nor subscribe to events: their changes
   * then leave no event behind, and none can be delivered later.
   */
  events?: boolean;
}

/** Column lengths of the audit table: a denial for a hostile, oversized value is still recorded. */
const AUDIT_LIMITS = { tenantId: 128, connectionId: 128, subject: 512, reason: 255 } as const;
const clip = (value: string | null, max: number) =>
  value !== null && value.length > max ? value.slice(0, max) : value;

const toMillis = (date: Date | null | undefined) => (date == null ? null : date.getTime());
const toDate = (value: unknown) => new Date(Number(value));
const toDateOrNull = (value: unknown) => (value == null ? null : new Date(Number(value)));

/** Every statement the store runs, built once from the entity metadata. */
interface Statements {
  userSelect: string;
  userReturning: string;
  findUserById: string;
  findUserByEmail: string;
  findIdentity: string;
  listIdentitiesOfUser: string;
  insertUser: string;
  insertIdentity: string;
  appendAudit: string;
  countActive: string;
  lockTenant: string;
  createTenant: string;
  insertSingleUse: string;
  readSingleUse: string;
  renewSingleUse: string;
  pruneSingleUse: string;
  users: string;
  identities: string;
  audit: string;
  col: (property: JitUserProperty) => string;
  updates: Map<string, string>;
  queries: Map<string, string>;
  outbox: OutboxSql;
  /** Whether `appendAudit` writes lifecycle events. */
  events: boolean;
}

/**
 * The `IdentityStore` on a TypeORM DataSource (better-sqlite3, postgres, mysql, mariadb).
 *
 * The login path runs one parameterised statement per need on the transaction's own connection
 * (no entity `save()`); table and column names come from the entity metadata, so an app's own user
 * entity works. Unique keys in the database decide races: a violation becomes `StoreConflictError`,
 * which the engine retries. Any other database failure becomes `StoreError` (`STORE_FAILURE`).
 */
export class TypeormStore implements IdentityStore, OutboxStore {
  readonly dataSource: DataSource;
  private readonly userTarget: EntityTarget<unknown>;
  private prepared: { db: Database; q: Statements } | null = null;
  private readonly events: boolean;

  constructor(dataSource: DataSource, options: TypeormStoreOptions = {}) {
    this.dataSource = dataSource;
    this.userTarget = options.userEntity ?? JitUserEntity;
    this.events = options.events ?? true;
  }

  private get ready(): { db: Database; q: Statements } {
    if (this.prepared) return this.prepared;
    if (!this.dataSource.isInitialized) {
      throw new StoreError('The DataSource is not initialised: call dataSource.initialize() first.');
    }
    const users = metadataOf(this.dataSource, this.userTarget, 'user entity');
    const identities = metadataOf(this.dataSource, JitIdentityEntity, 'JitIdentity');
    const audit = metadataOf(this.dataSource, JitAuditEventEntity, 'JitAuditEvent');
    const tenants = metadataOf(this.dataSource, JitTenantEntity, 'JitTenant');
    const singleUses = metadataOf(this.dataSource, JitSingleUseEntity, 'JitSingleUse');
    const userColumn = (property: JitUserProperty) => {
      const column = users.findColumnWithPropertyName(property);
      if (!column) {
        throw new StoreError(
          `The user entity "${users.name}" has no property "${property}" that the store needs.`,
        );
      }
      return column.databaseName;
    };
    const emailKeys = uniqueKeysWith(users, [userColumn('tenantId'), userColumn('email')]);
    const identityKeys = uniqueKeysWith(identities, ['connection_id', 'subject']);
    const emailColumn = `${users.tableName}.${userColumn('email')}`;
    const db = openDatabase(this.dataSource, ({ key, message }) => {
      if (key !== null) return emailKeys.has(key) ? 'email' : identityKeys.has(key) ? 'identity' : 'other';
      // SQLite names the columns: "UNIQUE constraint failed: jit_users.tenant_id, jit_users.email".
      if (message.includes(emailColumn)) return 'email';
      if (message.includes(`${identities.tableName}.subject`)) return 'identity';
      return 'other' satisfies StoreConflictError['constraint'];
    });
    const outbox = new OutboxSql(
      db,
      {
        audit,
        pending: metadataOf(this.dataSource, JitOutboxPendingEntity, 'JitOutboxPending'),
        events: metadataOf(this.dataSource, JitOutboxEventEntity, 'JitOutboxEvent'),
        endpoints: metadataOf(this.dataSource, JitWebhookEndpointEntity, 'JitWebhookEndpoint'),
        deliveries: metadataOf(this.dataSource, JitWebhookDeliveryEntity, 'JitWebhookDelivery'),
      },
      auditFrom,
    );
    this.prepared = {
      db,
      q: {
        ...buildStatements(db, users, userColumn, identities, audit, tenants, singleUses, outbox),
        events: this.events,
      },
    };
    return this.prepared;
  }

  // ---- StoreReader, outside a transaction ---------------------------------------------------

  findUserById(userId: string) {
    return this.read((r) => r.findUserById(userId));
  }
  findUserByEmail(tenantId: string, email: string) {
    return this.read((r) => r.findUserByEmail(tenantId, email));
  }
  findIdentity(connectionId: string, subject: string) {
    return this.read((r) => r.findIdentity(connectionId, subject));
  }
  listIdentitiesOfUser(userId: string) {
    return this.read((r) => r.listIdentitiesOfUser(userId));
  }
  findDormantUsers(tenantId: string, cutoff: Date, page: { afterId?: string; limit: number }) {
    return this.read((r) => r.findDormantUsers(tenantId, cutoff, page));
  }
  listUsers(query: UserQuery) {
    return this.read((r) => r.listUsers(query));
  }
  countUsers(query: Omit<UserQuery, 'afterId' | 'limit'>) {
    return this.read((r) => r.countUsers(query));
  }
  listAuditEvents(query: AuditQuery) {
    return this.read((r) => r.listAuditEvents(query));
  }

  async pruneSingleUse(before: Date, limit = 10_000): Promise<number> {
    const { db, q } = this.ready;
    return db.sql.run(q.pruneSingleUse, [before.getTime(), Math.floor(limit)]);
  }

  // ---- OutboxStore -------------------------------------------------------------------------

  dispatchEvents(limit: number, now: Date): Promise<number> {
    return this.ready.q.outbox.dispatchEvents(limit, now);
  }
  claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    return this.ready.q.outbox.claimDeliveries(options);
  }
  finishDelivery(id: string, attempt: number, outcome: DeliveryOutcome): Promise<void> {
    return this.ready.q.outbox.finishDelivery(id, attempt, outcome);
  }
  redeliver(
    query: { endpointId?: string; eventId?: string; tenantId?: string; status?: DeliveryStatus },
    at: Date,
  ): Promise<number> {
    return this.ready.q.outbox.redeliver(query, at);
  }
  listDeliveries(query: DeliveryQuery): Promise<DeliveryRecord[]> {
    return this.ready.q.outbox.listDeliveries(query);
  }
  listEvents(query: { tenantId?: string; afterId?: string; limit: number }): Promise<LifecycleEvent[]> {
    return this.ready.q.outbox.listEvents(query);
  }
  findEndpoint(id: string): Promise<WebhookEndpointRecord | null> {
    return this.ready.q.outbox.findEndpoint(id);
  }
  listEndpoints(tenantId?: string): Promise<WebhookEndpointRecord[]> {
    return this.ready.q.outbox.listEndpoints(tenantId);
  }
  insertEndpoint(endpoint: WebhookEndpointRecord, audit: AuditEvent | null): Promise<WebhookEndpointRecord> {
    return this.ready.q.outbox.insertEndpoint(endpoint, audit, (sql) => this.transactionOn(sql));
  }
  updateEndpoint(id: string, patch: EndpointPatch, audit: AuditEvent | null): Promise<WebhookEndpointRecord> {
    return this.ready.q.outbox.updateEndpoint(id, patch, audit, (sql) => this.transactionOn(sql));
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    let ready: { db: Database; q: Statements };
    try {
      ready = this.ready;
    } catch (error) {
      return Promise.reject(error);
    }
    return ready.db.transaction((sql) => work(new Transaction(ready.db, ready.q, sql)));
  }

  /** The SQL access of this store, for stores that keep more tables in the same transactions. */
  protected get database(): Database {
    return this.ready.db;
  }

  /** This store's reads and writes on `sql` (a transaction's connection from `database.transaction`). */
  protected transactionOn(sql: Sql): StoreTransaction {
    const { db, q } = this.ready;
    return new Transaction(db, q, sql);
  }

  private async read<T>(use: (reader: Transaction) => Promise<T>): Promise<T> {
    const { db, q } = this.ready;
    return use(new Transaction(db, q, db.sql));
  }
}

function metadataOf(dataSource: DataSource, target: EntityTarget<unknown>, what: string): EntityMetadata {
  if (!dataSource.hasMetadata(target)) {
    throw new StoreError(
      `The DataSource has no ${what}: add jitEntities (and your user entity, if you use your own) to its entities.`,
    );
  }
  return dataSource.getMetadata(target);
}

/** Names of the unique indexes and constraints of `metadata` that cover exactly `columns`. */
function uniqueKeysWith(metadata: EntityMetadata, columns: string[]): Set<string> {
  const names = new Set<string>();
  const same = (cols: { databaseName: string }[]) =>
    cols.length === columns.length && columns.every((c) => cols.some((col) => col.databaseName === c));
  for (const index of metadata.indices) if (index.isUnique && same(index.columns)) names.add(index.name);
  for (const unique of metadata.uniques) if (same(unique.columns)) names.add(unique.name);
  return names;
}

function buildStatements(
  db: Database,
  users: EntityMetadata,
  userColumn: (property: JitUserProperty) => string,
  identities: EntityMetadata,
  audit: EntityMetadata,
  tenants: EntityMetadata,
  singleUses: EntityMetadata,
  outbox: OutboxSql,
): Omit<Statements, 'events'> {
  const q = db.quote;
  const S = q(singleUses.tablePath);
  const singleUseKey = `${q('connection_id')} = ? AND ${q('key')} = ?`;
  const U = q(users.tablePath);
  const I = q(identities.tablePath);
  const A = q(audit.tablePath);
  const T = q(tenants.tablePath);
  const col = (p: JitUserProperty) => q(userColumn(p));
  const userSelect = JIT_USER_PROPERTIES.map((p) => `u.${col(p)} AS ${q(`u_${p}`)}`).join(', ');
  const userReturning = JIT_USER_PROPERTIES.map((p) => `${col(p)} AS ${q(`u_${p}`)}`).join(', ');
  const identitySelect = ['id', 'tenant_id', 'connection_id', 'subject', 'user_id', 'created_at']
    .map((c) => `i.${q(c)} AS ${q(`i_${c}`)}`)
    .join(', ');
  const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
  const auditColumns = [
    'id',
    'at',
    'tenant_id',
    'actor',
    'action',
    'connection_id',
    'subject',
    'user_id',
    'reason',
    'changes',
  ];
  const lock = db.dialect === 'sqlite' ? '' : ' FOR UPDATE';
  return {
    userSelect,
    userReturning,
    findUserById: `SELECT ${userSelect} FROM ${U} u WHERE u.${col('id')} = ?`,
    findUserByEmail: `SELECT ${userSelect} FROM ${U} u WHERE u.${col('tenantId')} = ? AND u.${col('email')} = ?`,
    findIdentity:
      `SELECT ${identitySelect}, ${userSelect} FROM ${I} i JOIN ${U} u ON u.${col('id')} = i.${q('user_id')} ` +
      `WHERE i.${q('connection_id')} = ? AND i.${q('subject')} = ?`,
    listIdentitiesOfUser: `SELECT ${identitySelect} FROM ${I} i WHERE i.${q('user_id')} = ? ORDER BY i.${q('created_at')}, i.${q('id')}`,
    insertUser: `INSERT INTO ${U} (${JIT_USER_PROPERTIES.map(col).join(', ')}) VALUES (${placeholders(JIT_USER_PROPERTIES.length)})`,
    insertIdentity: `INSERT INTO ${I} (${['id', 'tenant_id', 'connection_id', 'subject', 'user_id', 'created_at'].map(q).join(', ')}) VALUES (${placeholders(6)})`,
    appendAudit: `INSERT INTO ${A} (${auditColumns.map(q).join(', ')}) VALUES (${placeholders(auditColumns.length)})`,
    countActive: `SELECT COUNT(*) AS ${q('n')} FROM ${U} WHERE ${col('tenantId')} = ? AND ${col('status')} = ?`,
    lockTenant: `SELECT ${q('id')} FROM ${T} WHERE ${q('id')} = ?${lock}`,
    createTenant:
      db.dialect === 'postgres'
        ? `INSERT INTO ${T} (${q('id')}, ${q('created_at')}) VALUES (?, ?) ON CONFLICT (${q('id')}) DO NOTHING`
        : db.dialect === 'mysql'
          ? // On a duplicate this takes the row's exclusive lock at once (INSERT IGNORE would take a shared one).
            `INSERT INTO ${T} (${q('id')}, ${q('created_at')}) VALUES (?, ?) ON DUPLICATE KEY UPDATE ${q('id')} = ${q('id')}`
          : `INSERT OR IGNORE INTO ${T} (${q('id')}, ${q('created_at')}) VALUES (?, ?)`,
    insertSingleUse: `${
      db.dialect === 'postgres' ? 'INSERT' : db.dialect === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE'
    } INTO ${S} (${q('connection_id')}, ${q('key')}, ${q('expires_at')}) VALUES (?, ?, ?)${
      db.dialect === 'postgres' ? ' ON CONFLICT DO NOTHING' : ''
    }`,
    readSingleUse: `SELECT ${q('expires_at')} FROM ${S} WHERE ${singleUseKey}`,
    renewSingleUse: `UPDATE ${S} SET ${q('expires_at')} = ? WHERE ${singleUseKey} AND ${q('expires_at')} < ?`,
    pruneSingleUse:
      db.dialect === 'mysql'
        ? `DELETE FROM ${S} WHERE ${q('expires_at')} < ? ORDER BY ${q('expires_at')} LIMIT ?`
        : db.dialect === 'postgres'
          ? `DELETE FROM ${S} WHERE (${q('connection_id')}, ${q('key')}) IN (SELECT ${q('connection_id')}, ${q('key')} FROM ${S} WHERE ${q('expires_at')} < ? LIMIT ?)`
          : `DELETE FROM ${S} WHERE rowid IN (SELECT rowid FROM ${S} WHERE ${q('expires_at')} < ? LIMIT CAST(? AS INTEGER))`,
    users: U,
    identities: I,
    audit: A,
    col,
    updates: new Map(),
    queries: new Map(),
    outbox,
  };
}

function userFrom(row: Row): UserRecord {
  return Object.freeze({
    id: row['u_id'] as string,
    tenantId: row['u_tenantId'] as string,
    email: row['u_email'] as string,
    status: row['u_status'] as UserStatus,
    source: row['u_source'] as UserRecord['source'],
    attributes: Object.freeze(parseJson(row['u_attributes'], {})),
    roles: Object.freeze(
      (parseJson(row['u_roles'], []) as UserRecord['roles'][number][]).map((g) => Object.freeze(g)),
    ),
    externalId: (row['u_externalId'] as string | null) ?? null,
    createdAt: toDate(row['u_createdAt']),
    updatedAt: toDate(row['u_updatedAt']),
    lastLoginAt: toDateOrNull(row['u_lastLoginAt']),
    deactivatedAt: toDateOrNull(row['u_deactivatedAt']),
  });
}

function identityFrom(row: Row): IdentityRecord {
  return Object.freeze({
    id: row['i_id'] as string,
    tenantId: row['i_tenant_id'] as string,
    connectionId: row['i_connection_id'] as string,
    subject: row['i_subject'] as string,
    userId: row['i_user_id'] as string,
    createdAt: toDate(row['i_created_at']),
  });
}

function auditFrom(row: Row): AuditEvent {
  return Object.freeze({
    id: row['id'] as string,
    at: toDate(row['at']),
    tenantId: row['tenant_id'] as string,
    actor: row['actor'] as AuditEvent['actor'],
    action: row['action'] as AuditEvent['action'],
    connectionId: (row['connection_id'] as string | null) ?? null,
    subject: (row['subject'] as string | null) ?? null,
    userId: (row['user_id'] as string | null) ?? null,
    reason: (row['reason'] as string | null) ?? null,
    changes: Object.freeze(parseJson(row['changes'], [])),
  });
}

function filter(where: string[], params: unknown[], clause: string, value: unknown): void {
  where.push(clause);
  params.push(value);
}

function parseJson<T>(value: unknown, fallback: T): T {
  if (value == null || value === '') return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** The patchable user properties in a fixed order, so that each shape of UPDATE is one cached statement. */
const PATCHABLE = [
  'email',
  'status',
  'attributes',
  'roles',
  'externalId',
  'lastLoginAt',
  'deactivatedAt',
  'updatedAt',
] as const;

function patchValue(property: (typeof PATCHABLE)[number], patch: UserPatch): unknown {
  switch (property) {
    case 'attributes':
    case 'roles':
      return JSON.stringify(patch[property]);
    case 'lastLoginAt':
    case 'deactivatedAt':
    case 'updatedAt':
      return toMillis(patch[property]);
    default:
      return patch[property] ?? null;
  }
}

/** The store's statements on one connection: a transaction's, or the pool's for plain reads. */
export class Transaction implements StoreTransaction {
  /** Users as this transaction last read or wrote them, so that an update need not read the row back. */
  private readonly known = new Map<string, UserRecord>();
  /**
   * Users (or their absence) that another statement of this transaction read along with its own
   * rows (`userSelect` columns), for the next `findUserById` to answer without a statement of its own.
   */
  private readonly primed = new Map<string, UserRecord | null>();

  constructor(
    private readonly db: Database,
    private readonly q: Statements,
    private readonly sql: Sql,
  ) {}

  /** The `userSelect` columns (aliased `u`) of a row another statement read: see `primed`. */
  get userSelect(): string {
    return this.q.userSelect;
  }

  /** Keeps the user of `row` (its `userSelect` columns; all null when there is none) for `findUserById`. */
  prime(userId: string, row: Row): void {
    this.primed.set(userId, row['u_id'] == null ? null : userFrom(row));
  }

  async findUserById(userId: string): Promise<UserRecord | null> {
    const primed = this.primed.get(userId);
    if (primed !== undefined) {
      this.primed.delete(userId);
      return primed ? this.remember(primed) : null;
    }
    const rows = await this.sql.rows(this.q.findUserById, [userId]);
    return rows[0] ? this.remember(userFrom(rows[0])) : null;
  }

  async findUserByEmail(tenantId: string, email: string): Promise<UserRecord | null> {
    const rows = await this.sql.rows(this.q.findUserByEmail, [tenantId, email]);
    return rows[0] ? this.remember(userFrom(rows[0])) : null;
  }

  async findIdentity(connectionId: string, subject: string): Promise<IdentityWithUser | null> {
    const rows = await this.sql.rows(this.q.findIdentity, [connectionId, subject]);
    return rows[0] ? { identity: identityFrom(rows[0]), user: this.remember(userFrom(rows[0])) } : null;
  }

  private remember(user: UserRecord): UserRecord {
    this.known.set(user.id, user);
    return user;
  }

  async listIdentitiesOfUser(userId: string): Promise<IdentityRecord[]> {
    return (await this.sql.rows(this.q.listIdentitiesOfUser, [userId])).map(identityFrom);
  }

  findDormantUsers(
    tenantId: string,
    cutoff: Date,
    page: { afterId?: string; limit: number },
  ): Promise<UserRecord[]> {
    return this.listUsers({
      tenantId,
      status: 'active',
      notSeenSince: cutoff,
      afterId: page.afterId,
      limit: page.limit,
    });
  }

  async listUsers(query: UserQuery): Promise<UserRecord[]> {
    const { where, params } = this.userFilter(query);
    if (query.afterId !== undefined) {
      where.push(`u.${this.q.col('id')} > ?`);
      params.push(query.afterId);
    }
    const sql = this.cached(
      `users:${where.join(' AND ')}`,
      () =>
        `SELECT ${this.q.userSelect} FROM ${this.q.users} u${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ` +
        `ORDER BY u.${this.q.col('id')} ${this.db.limit()}`,
    );
    params.push(Math.max(0, Math.floor(query.limit)));
    return (await this.sql.rows(sql, params)).map(userFrom);
  }

  async countUsers(query: Omit<UserQuery, 'afterId' | 'limit'>): Promise<Record<UserStatus, number>> {
    const { where, params } = this.userFilter(query);
    const status = this.q.col('status');
    const sql = this.cached(
      `count:${where.join(' AND ')}`,
      () =>
        `SELECT u.${status} AS ${this.db.quote('status')}, COUNT(*) AS ${this.db.quote('n')} FROM ${this.q.users} u` +
        `${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY u.${status}`,
    );
    const counts: Record<UserStatus, number> = { active: 0, deactivated: 0 };
    for (const row of await this.sql.rows(sql, params))
      counts[row['status'] as UserStatus] = Number(row['n']);
    return counts;
  }

  async listAuditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const q = this.db.quote;
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.tenantId !== undefined) filter(where, params, `${q('tenant_id')} = ?`, query.tenantId);
    if (query.userId !== undefined) filter(where, params, `${q('user_id')} = ?`, query.userId);
    if (query.since !== undefined) filter(where, params, `${q('at')} >= ?`, query.since.getTime());
    if (query.afterId !== undefined) filter(where, params, `${q('id')} > ?`, query.afterId);
    const sql = this.cached(
      `audit:${where.join(' AND ')}`,
      () =>
        `SELECT * FROM ${this.q.audit}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${q('id')} ${this.db.limit()}`,
    );
    params.push(Math.max(0, Math.floor(query.limit)));
    return (await this.sql.rows(sql, params)).map(auditFrom);
  }

  async insertUser(user: NewUser): Promise<UserRecord> {
    const record: UserRecord = Object.freeze({
      id: user.id,
      tenantId: user.tenantId,
      email: user.email,
      status: user.status,
      source: user.source,
      attributes: Object.freeze({ ...user.attributes }),
      roles: Object.freeze(user.roles.map((g) => Object.freeze({ role: g.role, source: g.source }))),
      externalId: user.externalId ?? null,
      createdAt: user.createdAt,
      updatedAt: user.createdAt,
      lastLoginAt: user.lastLoginAt ?? null,
      deactivatedAt: null,
    });
    await this.sql.write(
      this.q.insertUser,
      [
        record.id,
        record.tenantId,
        record.email,
        record.status,
        record.source,
        JSON.stringify(record.attributes),
        JSON.stringify(record.roles),
        record.externalId,
        toMillis(record.createdAt),
        toMillis(record.updatedAt),
        toMillis(record.lastLoginAt),
        null,
      ],
      { key: `user:${record.id}` },
    );
    return this.remember(record);
  }

  async updateUser(userId: string, patch: UserPatch): Promise<UserRecord> {
    const fields = PATCHABLE.filter((p) => patch[p] !== undefined);
    const params = fields.map((p) => patchValue(p, patch));
    params.push(userId);
    const known = this.known.get(userId);
    if (known) {
      // The row was read in this transaction: answer with the record as patched instead of reading
      // it back (on PostgreSQL the write goes out with the transaction's other writes).
      if (fields.length) {
        await this.sql.write(this.updateStatement(fields, false), params, {
          key: `user:${userId}`,
          atLeastOne: true,
        });
      }
      const patched: Record<string, unknown> = { ...known };
      for (const p of fields) patched[p] = patch[p];
      if (patch.attributes !== undefined) patched['attributes'] = Object.freeze({ ...patch.attributes });
      if (patch.roles !== undefined) {
        patched['roles'] = Object.freeze(
          patch.roles.map((g) => Object.freeze({ role: g.role, source: g.source })),
        );
      }
      return this.remember(Object.freeze(patched) as unknown as UserRecord);
    }
    let row: Row | undefined;
    if (this.db.dialect === 'mysql') {
      // MariaDB has no UPDATE ... RETURNING: read the row back on the same connection.
      if (fields.length) await this.sql.run(this.updateStatement(fields, false), params);
      row = (await this.sql.rows(this.q.findUserById, [userId]))[0];
    } else if (fields.length) {
      row = (await this.sql.rows(this.updateStatement(fields, true), params))[0];
    } else {
      row = (await this.sql.rows(this.q.findUserById, [userId]))[0];
    }
    if (!row) throw new StoreError(`No user with id "${userId}" to update.`);
    return this.remember(userFrom(row));
  }

  private updateStatement(fields: readonly (typeof PATCHABLE)[number][], returning: boolean): string {
    const shape = `${fields.join(',')}${returning ? ':returning' : ''}`;
    let sql = this.q.updates.get(shape);
    if (!sql) {
      const set = fields.map((p) => `${this.q.col(p)} = ?`).join(', ');
      sql = `UPDATE ${this.q.users} SET ${set} WHERE ${this.q.col('id')} = ?${returning ? ` RETURNING ${this.q.userReturning}` : ''}`;
      this.q.updates.set(shape, sql);
    }
    return sql;
  }

  async insertIdentity(identity: NewIdentity): Promise<IdentityRecord> {
    const record: IdentityRecord = Object.freeze({ ...identity });
    await this.sql.write(this.q.insertIdentity, [
      record.id,
      record.tenantId,
      record.connectionId,
      record.subject,
      record.userId,
      toMillis(record.createdAt),
    ]);
    return record;
  }

  async useOnce(use: SingleUse): Promise<boolean> {
    const key = [use.connectionId, use.key];
    const expiresAt = use.expiresAt.getTime();
    // A conflict leaves the row as it is (and waits for an uncommitted twin): the insert alone tells
    // a first use. No locking read follows, so concurrent losers never upgrade shared locks into a
    // deadlock on MariaDB.
    if ((await this.sql.run(this.q.insertSingleUse, [...key, expiresAt])) === 1) return true;
    const [row] = await this.sql.rows(this.q.readSingleUse, key);
    // Not visible in this transaction's snapshot, or still live: used.
    if (!row || Number(row['expires_at']) >= use.at.getTime()) return false;
    // Expired: one taker renews it; a concurrent taker's update then matches nothing.
    return (await this.sql.run(this.q.renewSingleUse, [expiresAt, ...key, use.at.getTime()])) === 1;
  }

  async acquireSeat(tenantId: string, limit: number): Promise<boolean> {
    // SQLite transactions hold the database's write lock from BEGIN IMMEDIATE, so they are already serial.
    if (this.db.dialect !== 'sqlite') {
      // Lock the tenant's row (created on first use) until the transaction ends.
      const locked = await this.sql.lock(this.q.lockTenant, [tenantId]);
      if (!locked.length) {
        await this.sql.run(this.q.createTenant, [tenantId, Date.now()]);
        if (this.db.dialect === 'postgres') await this.sql.lock(this.q.lockTenant, [tenantId]);
      }
    }
    const rows = await this.sql.rows(this.q.countActive, [tenantId, 'active']);
    return Number(rows[0]?.['n'] ?? 0) < limit;
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.sql.write(this.q.appendAudit, [
      event.id,
      event.at.getTime(),
      clip(event.tenantId, AUDIT_LIMITS.tenantId),
      event.actor,
      event.action,
      clip(event.connectionId, AUDIT_LIMITS.connectionId),
      clip(event.subject, AUDIT_LIMITS.subject),
      event.userId,
      clip(event.reason, AUDIT_LIMITS.reason),
      JSON.stringify(event.changes),
    ]);
    // A change with a lifecycle event marks it for the outbox, in the same transaction.
    if (this.q.events && hasLifecycleEvent(event)) await this.q.outbox.markPending(this.sql, event.id);
  }

  private userFilter(query: Omit<UserQuery, 'afterId' | 'limit'>): { where: string[]; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    const col = (p: JitUserProperty) => `u.${this.q.col(p)}`;
    if (query.tenantId !== undefined) filter(where, params, `${col('tenantId')} = ?`, query.tenantId);
    if (query.status !== undefined) filter(where, params, `${col('status')} = ?`, query.status);
    if (query.source !== undefined) filter(where, params, `${col('source')} = ?`, query.source);
    if (query.email !== undefined) filter(where, params, `${col('email')} = ?`, query.email);
    if (query.externalId !== undefined) filter(where, params, `${col('externalId')} = ?`, query.externalId);
    if (query.notSeenSince !== undefined) {
      where.push(`COALESCE(${col('lastLoginAt')}, ${col('createdAt')}) < ?`);
      params.push(query.notSeenSince.getTime());
    }
    return { where, params };
  }

  private cached(key: string, build: () => string): string {
    let sql = this.q.queries.get(key);
    if (!sql) this.q.queries.set(key, (sql = build()));
    return sql;
  }
}
