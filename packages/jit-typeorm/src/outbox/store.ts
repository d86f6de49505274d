import {
  lifecycleEventOf,
  StoreError,
  uuidv7,
  type AuditEvent,
  type ClaimedDelivery,
  type ClaimOptions,
  type DeliveryOutcome,
  type DeliveryQuery,
  type DeliveryRecord,
  type DeliveryStatus,
  type EndpointPatch,
  type EventPayload,
  type LifecycleEvent,
  type LifecycleEventType,
  type StoreTransaction,
  type WebhookEndpointRecord,
} from '@jit-sso/core';
import type { EntityMetadata } from 'typeorm';
import type { Database, Row, Sql } from '../sql.js';

const toDate = (value: unknown) => new Date(Number(value));
const toDateOrNull = (value: unknown) => (value == null ? null : new Date(Number(value)));
const clip = (value: string | null, max: number) =>
  value !== null && value.length > max ? value.slice(0, max) : value;

export interface OutboxTables {
  audit: EntityMetadata;
  pending: EntityMetadata;
  events: EntityMetadata;
  endpoints: EntityMetadata;
  deliveries: EntityMetadata;
}

const EVENT_COLUMNS = ['id', 'tenant_id', 'type', 'at', 'ordering_key', 'payload'];
const ENDPOINT_COLUMNS = [
  'id',
  'tenant_id',
  'url',
  'secret',
  'previous_secret',
  'previous_secret_expires_at',
  'paused',
  'event_types',
  'created_at',
  'updated_at',
];
const DELIVERY_COLUMNS = [
  'id',
  'event_id',
  'endpoint_id',
  'ordering_key',
  'status',
  'attempts',
  'next_attempt_at',
  'lease_until',
  'last_error',
  'last_status',
  'delivered_at',
  'created_at',
];

/** Rows per multi-row INSERT of deliveries. */
const INSERT_CHUNK = 100;

export function eventFrom(row: Row): LifecycleEvent {
  return Object.freeze({
    id: row['id'] as string,
    type: row['type'] as LifecycleEventType,
    at: toDate(row['at']),
    tenantId: row['tenant_id'] as string,
    orderingKey: row['ordering_key'] as string,
    payload: Object.freeze(JSON.parse(row['payload'] as string) as EventPayload),
  });
}

function endpointFrom(row: Row): WebhookEndpointRecord {
  return Object.freeze({
    id: row['id'] as string,
    tenantId: (row['tenant_id'] as string | null) ?? null,
    url: row['url'] as string,
    secret: (row['secret'] as string | null) ?? null,
    previousSecret: (row['previous_secret'] as string | null) ?? null,
    previousSecretExpiresAt: toDateOrNull(row['previous_secret_expires_at']),
    paused: Number(row['paused']) === 1,
    eventTypes:
      row['event_types'] == null
        ? null
        : Object.freeze(JSON.parse(row['event_types'] as string) as LifecycleEventType[]),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
  });
}

function deliveryFrom(row: Row): DeliveryRecord {
  return Object.freeze({
    id: row['id'] as string,
    eventId: row['event_id'] as string,
    endpointId: row['endpoint_id'] as string,
    orderingKey: row['ordering_key'] as string,
    status: row['status'] as DeliveryStatus,
    attempts: Number(row['attempts']),
    nextAttemptAt: toDate(row['next_attempt_at']),
    leaseUntil: toDateOrNull(row['lease_until']),
    lastError: (row['last_error'] as string | null) ?? null,
    lastStatus: row['last_status'] == null ? null : Number(row['last_status']),
    deliveredAt: toDateOrNull(row['delivered_at']),
    createdAt: toDate(row['created_at']),
  });
}

function receives(endpoint: WebhookEndpointRecord, event: { tenantId: string; type: string }): boolean {
  if (endpoint.tenantId !== null && endpoint.tenantId !== event.tenantId) return false;
  return endpoint.eventTypes === null || endpoint.eventTypes.includes(event.type as LifecycleEventType);
}

/**
 * The outbox's SQL on one database. `appendAudit` of the store calls `insertEvent` in its
 * transaction; the rest is what delivery workers and endpoint management run.
 */
export class OutboxSql {
  private readonly A: string;
  private readonly P: string;
  private readonly E: string;
  private readonly W: string;
  private readonly D: string;
  private readonly insertPendingSql: string;
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly db: Database,
    tables: OutboxTables,
    private readonly auditFrom: (row: Row) => AuditEvent,
  ) {
    const q = db.quote;
    this.A = q(tables.audit.tablePath);
    this.P = q(tables.pending.tablePath);
    this.E = q(tables.events.tablePath);
    this.W = q(tables.endpoints.tablePath);
    this.D = q(tables.deliveries.tablePath);
    this.insertPendingSql = `INSERT INTO ${this.P} (${q('audit_id')}) VALUES (?)`;
  }

  /**
   * Marks an audit event as having a lifecycle event to dispatch, in the caller's transaction (held
   * with its other writes on PostgreSQL): one key in a table without other indexes.
   */
  markPending(sql: Sql, auditId: string): Promise<void> {
    return sql.write(this.insertPendingSql, [auditId]);
  }

  private get forUpdate(): string {
    return this.db.dialect === 'sqlite' ? '' : ' FOR UPDATE';
  }

  private get skipLocked(): string {
    return this.db.dialect === 'sqlite' ? '' : ' FOR UPDATE SKIP LOCKED';
  }

  private statement(key: string, build: () => string): string {
    let sql = this.cache.get(key);
    if (!sql) this.cache.set(key, (sql = build()));
    return sql;
  }

  async dispatchEvents(limit: number, now: Date): Promise<number> {
    const q = this.db.quote;
    return this.db.transaction(async (sql) => {
      // A plain FOR UPDATE (no SKIP LOCKED): dispatchers take turns, so that the deliveries of
      // one ordering key are created in the order of the events.
      const pending = await sql.lock(
        this.statement(
          'dispatch',
          () =>
            `SELECT ${q('audit_id')} FROM ${this.P} ORDER BY ${q('audit_id')} ${this.db.limit()}${this.forUpdate}`,
        ),
        [Math.max(1, Math.floor(limit))],
      );
      if (!pending.length) return 0;
      const ids = pending.map((r) => r['audit_id']);
      const audits = await sql.rows(
        `SELECT * FROM ${this.A} WHERE ${q('id')} IN (${marks(ids.length)}) ORDER BY ${q('id')}`,
        ids,
      );
      const events = audits
        .map((row) => lifecycleEventOf(this.auditFrom(row)))
        .filter((e): e is LifecycleEvent => e !== null);
      const endpoints = events.length
        ? (await sql.rows(`SELECT * FROM ${this.W} ORDER BY ${q('id')}`, [])).map(endpointFrom)
        : [];
      const eventRows = events.map((event) => [
        event.id,
        clip(event.tenantId, 128),
        event.type,
        event.at.getTime(),
        clip(event.orderingKey, 160),
        JSON.stringify(event.payload),
      ]);
      const deliveryRows: unknown[][] = [];
      for (const event of events) {
        for (const endpoint of endpoints) {
          if (!receives(endpoint, event)) continue;
          deliveryRows.push([
            uuidv7(now),
            event.id,
            endpoint.id,
            clip(event.orderingKey, 160),
            'pending',
            0,
            now.getTime(),
            null,
            null,
            null,
            null,
            now.getTime(),
          ]);
        }
      }
      await this.insertRows(sql, this.E, EVENT_COLUMNS, eventRows);
      await this.insertRows(sql, this.D, DELIVERY_COLUMNS, deliveryRows);
      await sql.run(`DELETE FROM ${this.P} WHERE ${q('audit_id')} IN (${marks(ids.length)})`, ids);
      return pending.length;
    });
  }

  /** Multi-row inserts that skip rows whose key exists (a dispatch that ran twice). */
  private async insertRows(sql: Sql, table: string, columns: readonly string[], rows: unknown[][]) {
    const q = this.db.quote;
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      const values = chunk.map(() => `(${marks(columns.length)})`).join(', ');
      await sql.run(
        `${this.insertIgnore} INTO ${table} (${columns.map(q).join(', ')}) VALUES ${values}${this.onConflictIgnore}`,
        chunk.flat(),
      );
    }
  }

  private get insertIgnore(): string {
    return this.db.dialect === 'mysql'
      ? 'INSERT IGNORE'
      : this.db.dialect === 'sqlite'
        ? 'INSERT OR IGNORE'
        : 'INSERT';
  }

  private get onConflictIgnore(): string {
    return this.db.dialect === 'postgres' ? ' ON CONFLICT DO NOTHING' : '';
  }

  async claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    const q = this.db.quote;
    const kinds: string[] = [];
    const kindParams: unknown[] = [];
    if (options.http) kinds.push(`${q('url')} LIKE 'http%'`);
    if (options.subscribers.length) {
      kinds.push(`${q('url')} IN (${marks(options.subscribers.length)})`);
      kindParams.push(...options.subscribers.map((name) => `subscriber:${name}`));
    }
    if (!kinds.length) return [];
    const now = options.now.getTime();
    const limit = Math.max(1, Math.floor(options.limit));
    const due =
      `((d.${q('status')} = 'pending' AND d.${q('next_attempt_at')} <= ?) ` +
      `OR (d.${q('status')} = 'sending' AND d.${q('lease_until')} <= ?)) ` +
      `AND d.${q('endpoint_id')} IN (SELECT ${q('id')} FROM ${this.W} WHERE ${q('paused')} = 0 AND (${kinds.join(' OR ')})) ` +
      // The first undelivered event of its ordering key for this endpoint, or none.
      `AND NOT EXISTS (SELECT 1 FROM ${this.D} p WHERE p.${q('endpoint_id')} = d.${q('endpoint_id')} ` +
      `AND p.${q('ordering_key')} = d.${q('ordering_key')} AND p.${q('event_id')} < d.${q('event_id')} ` +
      `AND p.${q('status')} IN ('pending', 'sending'))`;
    const shape = `${options.http}:${options.subscribers.length}`;
    const select = this.statement(
      `claim:${shape}`,
      () =>
        `SELECT d.* FROM ${this.D} d WHERE ${due} ORDER BY d.${q('event_id')} ${this.db.limit()}${this.skipLocked}`,
    );
    const dueParams = [now, now, ...kindParams];
    // InnoDB locks every row a locking read matches before it sorts and cuts to the LIMIT, so that
    // one claim would hold (and others skip) every due delivery. There the candidates are read
    // first without locks, then locked by primary key with the same conditions checked again.
    let candidates: unknown[] | null = null;
    if (this.db.dialect === 'mysql') {
      candidates = (
        await this.db.sql.rows(
          this.statement(
            `candidates:${shape}`,
            () =>
              `SELECT d.${q('id')} FROM ${this.D} d WHERE ${due} ORDER BY d.${q('event_id')} ${this.db.limit()}`,
          ),
          [...dueParams, limit * 4],
        )
      ).map((r) => r['id']);
      if (!candidates.length) return [];
    }
    return this.db.transaction(async (sql) => {
      const rows = candidates
        ? await sql.lock(
            `SELECT d.* FROM ${this.D} d WHERE d.${q('id')} IN (${marks(candidates.length)}) AND ${due} ` +
              `ORDER BY d.${q('event_id')} ${this.db.limit()}${this.skipLocked}`,
            [...candidates, ...dueParams, limit],
          )
        : await sql.lock(select, [...dueParams, limit]);
      if (!rows.length) return [];
      const ids = rows.map((r) => r['id']);
      const leaseUntil = now + options.leaseMs;
      await sql.run(
        `UPDATE ${this.D} SET ${q('status')} = 'sending', ${q('lease_until')} = ?, ${q('attempts')} = ${q('attempts')} + 1 ` +
          `WHERE ${q('id')} IN (${marks(ids.length)})`,
        [leaseUntil, ...ids],
      );
      const eventIds = [...new Set(rows.map((r) => r['event_id']))];
      const endpointIds = [...new Set(rows.map((r) => r['endpoint_id']))];
      const events = new Map(
        (await sql.rows(`SELECT * FROM ${this.E} WHERE ${q('id')} IN (${marks(eventIds.length)})`, eventIds))
          .map(eventFrom)
          .map((e) => [e.id, e]),
      );
      const endpoints = new Map(
        (
          await sql.rows(
            `SELECT * FROM ${this.W} WHERE ${q('id')} IN (${marks(endpointIds.length)})`,
            endpointIds,
          )
        )
          .map(endpointFrom)
          .map((e) => [e.id, e]),
      );
      const claimed: ClaimedDelivery[] = [];
      for (const row of rows) {
        const event = events.get(row['event_id'] as string);
        const endpoint = endpoints.get(row['endpoint_id'] as string);
        if (!event || !endpoint) continue;
        const delivery = deliveryFrom({
          ...row,
          status: 'sending',
          lease_until: leaseUntil,
          attempts: Number(row['attempts']) + 1,
        });
        claimed.push(Object.freeze({ delivery, event, endpoint }));
      }
      return claimed;
    });
  }

  async finishDelivery(id: string, attempt: number, outcome: DeliveryOutcome): Promise<void> {
    const q = this.db.quote;
    const where = `WHERE ${q('id')} = ? AND ${q('status')} = 'sending' AND ${q('attempts')} = ?`;
    if (outcome.kind === 'delivered') {
      await this.db.sql.run(
        this.statement(
          'delivered',
          () =>
            `UPDATE ${this.D} SET ${q('status')} = 'delivered', ${q('delivered_at')} = ?, ${q('last_status')} = ?, ` +
            `${q('last_error')} = NULL, ${q('lease_until')} = NULL ${where}`,
        ),
        [outcome.at.getTime(), outcome.status, id, attempt],
      );
      return;
    }
    await this.db.sql.run(
      this.statement(
        'failed',
        () =>
          `UPDATE ${this.D} SET ${q('status')} = ?, ${q('next_attempt_at')} = ?, ${q('last_status')} = ?, ` +
          `${q('last_error')} = ?, ${q('lease_until')} = NULL ${where}`,
      ),
      [
        outcome.retryAt ? 'pending' : 'dead',
        (outcome.retryAt ?? outcome.at).getTime(),
        outcome.status,
        clip(outcome.error, 500),
        id,
        attempt,
      ],
    );
  }

  async redeliver(
    query: { endpointId?: string; eventId?: string; tenantId?: string; status?: DeliveryStatus },
    at: Date,
  ): Promise<number> {
    const q = this.db.quote;
    const where = [`${q('status')} = ?`];
    const params: unknown[] = [query.status ?? 'dead'];
    if (query.endpointId !== undefined) {
      where.push(`${q('endpoint_id')} = ?`);
      params.push(query.endpointId);
    }
    if (query.eventId !== undefined) {
      where.push(`${q('event_id')} = ?`);
      params.push(query.eventId);
    }
    if (query.tenantId !== undefined) {
      where.push(`${q('event_id')} IN (SELECT ${q('id')} FROM ${this.E} WHERE ${q('tenant_id')} = ?)`);
      params.push(query.tenantId);
    }
    return this.db.transaction((sql) =>
      sql.run(
        `UPDATE ${this.D} SET ${q('status')} = 'pending', ${q('next_attempt_at')} = ?, ${q('attempts')} = 0, ` +
          `${q('lease_until')} = NULL, ${q('delivered_at')} = NULL WHERE ${where.join(' AND ')}`,
        [at.getTime(), ...params],
      ),
    );
  }

  async listDeliveries(query: DeliveryQuery): Promise<DeliveryRecord[]> {
    const q = this.db.quote;
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      params.push(value);
    };
    if (query.endpointId !== undefined) add(`${q('endpoint_id')} = ?`, query.endpointId);
    if (query.status !== undefined) add(`${q('status')} = ?`, query.status);
    if (query.eventId !== undefined) add(`${q('event_id')} = ?`, query.eventId);
    if (query.afterId !== undefined) add(`${q('id')} > ?`, query.afterId);
    if (query.tenantId !== undefined) {
      add(
        `${q('event_id')} IN (SELECT ${q('id')} FROM ${this.E} WHERE ${q('tenant_id')} = ?)`,
        query.tenantId,
      );
    }
    params.push(Math.max(0, Math.floor(query.limit)));
    const rows = await this.db.sql.rows(
      `SELECT * FROM ${this.D}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${q('id')} ${this.db.limit()}`,
      params,
    );
    return rows.map(deliveryFrom);
  }

  async listEvents(query: { tenantId?: string; afterId?: string; limit: number }): Promise<LifecycleEvent[]> {
    const q = this.db.quote;
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.tenantId !== undefined) {
      where.push(`${q('tenant_id')} = ?`);
      params.push(query.tenantId);
    }
    if (query.afterId !== undefined) {
      where.push(`${q('id')} > ?`);
      params.push(query.afterId);
    }
    params.push(Math.max(0, Math.floor(query.limit)));
    const rows = await this.db.sql.rows(
      `SELECT * FROM ${this.E}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${q('id')} ${this.db.limit()}`,
      params,
    );
    return rows.map(eventFrom);
  }

  async findEndpoint(id: string): Promise<WebhookEndpointRecord | null> {
    const [row] = await this.db.sql.rows(`SELECT * FROM ${this.W} WHERE ${this.db.quote('id')} = ?`, [id]);
    return row ? endpointFrom(row) : null;
  }

  async listEndpoints(tenantId?: string): Promise<WebhookEndpointRecord[]> {
    const q = this.db.quote;
    const rows =
      tenantId === undefined
        ? await this.db.sql.rows(`SELECT * FROM ${this.W} ORDER BY ${q('id')}`, [])
        : await this.db.sql.rows(
            `SELECT * FROM ${this.W} WHERE ${q('tenant_id')} = ? OR ${q('tenant_id')} IS NULL ORDER BY ${q('id')}`,
            [tenantId],
          );
    return rows.map(endpointFrom);
  }

  async insertEndpoint(
    endpoint: WebhookEndpointRecord,
    audit: AuditEvent | null,
    transactionOn: (sql: Sql) => StoreTransaction,
  ): Promise<WebhookEndpointRecord> {
    const q = this.db.quote;
    await this.db.transaction(async (sql) => {
      await sql.run(
        `INSERT INTO ${this.W} (${ENDPOINT_COLUMNS.map(q).join(', ')}) VALUES (${marks(ENDPOINT_COLUMNS.length)})`,
        [
          endpoint.id,
          endpoint.tenantId,
          endpoint.url,
          endpoint.secret,
          endpoint.previousSecret,
          endpoint.previousSecretExpiresAt?.getTime() ?? null,
          endpoint.paused ? 1 : 0,
          endpoint.eventTypes === null ? null : JSON.stringify(endpoint.eventTypes),
          endpoint.createdAt.getTime(),
          endpoint.updatedAt.getTime(),
        ],
      );
      if (audit) await transactionOn(sql).appendAudit(audit);
    });
    return endpoint;
  }

  async updateEndpoint(
    id: string,
    patch: EndpointPatch,
    audit: AuditEvent | null,
    transactionOn: (sql: Sql) => StoreTransaction,
  ): Promise<WebhookEndpointRecord> {
    const q = this.db.quote;
    const set: string[] = [];
    const params: unknown[] = [];
    const add = (column: string, value: unknown) => {
      set.push(`${q(column)} = ?`);
      params.push(value);
    };
    if (patch.url !== undefined) add('url', patch.url);
    if (patch.secret !== undefined) add('secret', patch.secret);
    if (patch.previousSecret !== undefined) add('previous_secret', patch.previousSecret);
    if (patch.previousSecretExpiresAt !== undefined) {
      add('previous_secret_expires_at', patch.previousSecretExpiresAt?.getTime() ?? null);
    }
    if (patch.paused !== undefined) add('paused', patch.paused ? 1 : 0);
    if (patch.eventTypes !== undefined) {
      add('event_types', patch.eventTypes === null ? null : JSON.stringify(patch.eventTypes));
    }
    add('updated_at', patch.updatedAt.getTime());
    return this.db.transaction(async (sql) => {
      const changed = await sql.run(`UPDATE ${this.W} SET ${set.join(', ')} WHERE ${q('id')} = ?`, [
        ...params,
        id,
      ]);
      if (changed === 0) throw new StoreError(`No webhook endpoint with id "${id}".`);
      if (audit) await transactionOn(sql).appendAudit(audit);
      const [row] = await sql.rows(`SELECT * FROM ${this.W} WHERE ${q('id')} = ?`, [id]);
      return endpointFrom(row!);
    });
  }
}

function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
