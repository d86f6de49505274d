import type { DataSource } from 'typeorm';
import {
  configurationAuditEvent,
  StoreError,
  type ConfigurationEvent,
  type ConfigurationEventQuery,
  type ConfigurationReader,
  type ConfigurationStore,
  type ConfigurationTransaction,
  type LoadedConnection,
  type StoredConnection,
  type StoredDomain,
  type StoredTenant,
} from '@jit-sso/core';
import { JitOutboxPendingEntity } from '../outbox/schema.js';
import { JitAuditEventEntity } from '../schema.js';
import { openDatabase, type Database, type Row, type Sql } from '../sql.js';
import {
  JitConfigConnectionEntity,
  JitConfigDomainEntity,
  JitConfigEventEntity,
  JitConfigStateEntity,
  JitConfigTenantEntity,
} from './schema.js';

const toDate = (value: unknown) => new Date(Number(value));
const flag = (value: unknown) => value === true || Number(value) === 1;
const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);

function tenantOf(row: Row): StoredTenant {
  return {
    id: String(row['id']),
    displayName: row['display_name'] == null ? null : String(row['display_name']),
    seatLimit: row['seat_limit'] == null ? null : Number(row['seat_limit']),
    requireProvisionedUsers: flag(row['require_provisioned_users']),
    version: Number(row['version']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
  };
}

function connectionOf(row: Row): StoredConnection {
  return {
    id: String(row['id']),
    tenantId: String(row['tenant_id']),
    definition: json(row['definition']),
    version: Number(row['version']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
  };
}

function domainOf(row: Row): StoredDomain {
  return {
    domain: String(row['domain']),
    tenantId: String(row['tenant_id']),
    status: String(row['status']) as StoredDomain['status'],
    challenge: String(row['challenge']),
    version: Number(row['version']),
    createdAt: toDate(row['created_at']),
    verifiedAt: row['verified_at'] == null ? null : toDate(row['verified_at']),
  };
}

function eventOf(row: Row): ConfigurationEvent {
  return {
    id: String(row['id']),
    at: toDate(row['at']),
    version: Number(row['version']),
    tenantId: String(row['tenant_id']),
    actor: String(row['actor']),
    action: String(row['action']) as ConfigurationEvent['action'],
    target: String(row['target']),
    changes: json(row['changes']),
  };
}

export interface TypeormConfigurationStoreOptions {
  /**
   * Whether each change also writes its audit event and its `config.changed` lifecycle event to the
   * outbox, in the change's transaction. By default, when the DataSource has the audit and outbox
   * tables (`jitEntities`); `true` requires them; `false` writes neither.
   */
  events?: boolean;
}

/** Cuts a value to the length of its audit column. */
const clip = (value: string | null, max: number) =>
  value !== null && value.length > max ? value.slice(0, max) : value;

/** The statements, built once per dialect from the table names. */
function statements(db: Database, outbox: { audit: string; pending: string } | null) {
  const q = db.quote;
  const state = q('jit_config_state');
  const tenants = q('jit_config_tenants');
  const connections = q('jit_config_connections');
  const domains = q('jit_config_domains');
  const events = q('jit_config_events');
  return {
    version: `SELECT ${q('version')} FROM ${state} WHERE ${q('id')} = 1`,
    firstVersion: `INSERT INTO ${state} (${q('id')}, ${q('version')}) VALUES (1, 1)`,
    bump: `UPDATE ${state} SET ${q('version')} = ${q('version')} + 1 WHERE ${q('id')} = 1`,
    getTenant: `SELECT * FROM ${tenants} WHERE ${q('id')} = ?`,
    updateTenant: `UPDATE ${tenants} SET ${q('display_name')} = ?, ${q('seat_limit')} = ?, ${q('require_provisioned_users')} = ?, ${q('version')} = ?, ${q('updated_at')} = ? WHERE ${q('id')} = ?`,
    insertTenant: `INSERT INTO ${tenants} (${q('id')}, ${q('display_name')}, ${q('seat_limit')}, ${q('require_provisioned_users')}, ${q('version')}, ${q('created_at')}, ${q('updated_at')}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    deleteTenant: `DELETE FROM ${tenants} WHERE ${q('id')} = ?`,
    getConnection: `SELECT * FROM ${connections} WHERE ${q('id')} = ?`,
    listConnections: `SELECT * FROM ${connections} WHERE ${q('tenant_id')} = ? ORDER BY ${q('id')}`,
    updateConnection: `UPDATE ${connections} SET ${q('tenant_id')} = ?, ${q('protocol')} = ?, ${q('definition')} = ?, ${q('version')} = ?, ${q('updated_at')} = ? WHERE ${q('id')} = ?`,
    insertConnection: `INSERT INTO ${connections} (${q('id')}, ${q('tenant_id')}, ${q('protocol')}, ${q('definition')}, ${q('version')}, ${q('created_at')}, ${q('updated_at')}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    deleteConnection: `DELETE FROM ${connections} WHERE ${q('id')} = ?`,
    getDomain: `SELECT * FROM ${domains} WHERE ${q('domain')} = ?`,
    listDomains: `SELECT * FROM ${domains} WHERE ${q('tenant_id')} = ? ORDER BY ${q('domain')}`,
    verifiedDomains: `SELECT ${q('domain')} FROM ${domains} WHERE ${q('tenant_id')} = ? AND ${q('status')} = 'verified' ORDER BY ${q('domain')}`,
    insertDomain: `INSERT INTO ${domains} (${q('domain')}, ${q('tenant_id')}, ${q('status')}, ${q('challenge')}, ${q('version')}, ${q('created_at')}, ${q('verified_at')}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    updateDomain: `UPDATE ${domains} SET ${q('tenant_id')} = ?, ${q('status')} = ?, ${q('challenge')} = ?, ${q('version')} = ?, ${q('verified_at')} = ? WHERE ${q('domain')} = ?`,
    deleteDomain: `DELETE FROM ${domains} WHERE ${q('domain')} = ?`,
    insertEvent: `INSERT INTO ${events} (${q('id')}, ${q('at')}, ${q('version')}, ${q('tenant_id')}, ${q('actor')}, ${q('action')}, ${q('target')}, ${q('changes')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    insertAudit: outbox
      ? `INSERT INTO ${q(outbox.audit)} (${['id', 'at', 'tenant_id', 'actor', 'action', 'connection_id', 'subject', 'user_id', 'reason', 'changes'].map(q).join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      : null,
    insertPending: outbox ? `INSERT INTO ${q(outbox.pending)} (${q('audit_id')}) VALUES (?)` : null,
    events: (tenant: boolean, after: boolean) =>
      `SELECT * FROM ${events} WHERE 1 = 1${tenant ? ` AND ${q('tenant_id')} = ?` : ''}${after ? ` AND ${q('version')} > ?` : ''} ORDER BY ${q('version')}, ${q('id')} ${db.limit()}`,
  };
}
type Statements = ReturnType<typeof statements>;

function readerOn(sql: Sql, s: Statements): ConfigurationReader {
  return {
    async getTenant(id) {
      const [row] = await sql.rows(s.getTenant, [id]);
      return row ? tenantOf(row) : null;
    },
    async getConnection(id) {
      const [row] = await sql.rows(s.getConnection, [id]);
      return row ? connectionOf(row) : null;
    },
    async listConnections(tenantId) {
      return (await sql.rows(s.listConnections, [tenantId])).map(connectionOf);
    },
    async getDomain(domain) {
      const [row] = await sql.rows(s.getDomain, [domain]);
      return row ? domainOf(row) : null;
    },
    async listDomains(tenantId) {
      return (await sql.rows(s.listDomains, [tenantId])).map(domainOf);
    },
    async listConfigurationEvents(query: ConfigurationEventQuery) {
      const params: unknown[] = [];
      if (query.tenantId !== undefined) params.push(query.tenantId);
      if (query.afterVersion !== undefined) params.push(query.afterVersion);
      params.push(Math.floor(query.limit));
      const sqlText = s.events(query.tenantId !== undefined, query.afterVersion !== undefined);
      return (await sql.rows(sqlText, params)).map(eventOf);
    },
  };
}

/**
 * The `ConfigurationStore` on a TypeORM DataSource (SQLite, PostgreSQL, MySQL/MariaDB), on the
 * tables of `jitConfigurationEntities` created by the package's migrations. Writers take the
 * version row first (`nextVersion`), so changes run one at a time and commit in version order; a
 * domain's primary key keeps it with one tenant.
 */
export class TypeormConfigurationStore implements ConfigurationStore {
  readonly dataSource: DataSource;
  private prepared: { db: Database; s: Statements } | null = null;
  private readonly events: boolean | undefined;

  constructor(dataSource: DataSource, options: TypeormConfigurationStoreOptions = {}) {
    this.dataSource = dataSource;
    this.events = options.events;
  }

  private get ready(): { db: Database; s: Statements } {
    if (this.prepared) return this.prepared;
    if (!this.dataSource.isInitialized) {
      throw new StoreError('The DataSource is not initialised: call dataSource.initialize() first.');
    }
    for (const entity of [
      JitConfigStateEntity,
      JitConfigTenantEntity,
      JitConfigConnectionEntity,
      JitConfigDomainEntity,
      JitConfigEventEntity,
    ]) {
      if (!this.dataSource.hasMetadata(entity)) {
        throw new StoreError(
          'The DataSource has no configuration tables: add jitEntities to its entities and run the migrations.',
        );
      }
    }
    const hasOutbox =
      this.dataSource.hasMetadata(JitAuditEventEntity) && this.dataSource.hasMetadata(JitOutboxPendingEntity);
    if (this.events === true && !hasOutbox) {
      throw new StoreError(
        'The DataSource has no audit and outbox tables: add jitEntities to its entities and run the migrations.',
      );
    }
    const outbox =
      this.events !== false && hasOutbox
        ? {
            audit: this.dataSource.getMetadata(JitAuditEventEntity).tablePath,
            pending: this.dataSource.getMetadata(JitOutboxPendingEntity).tablePath,
          }
        : null;
    // Every unique key of these tables is one: a domain held by another tenant.
    const db = openDatabase(this.dataSource, classifyConfiguration);
    this.prepared = { db, s: statements(db, outbox) };
    return this.prepared;
  }

  private reader(): ConfigurationReader {
    const { db, s } = this.ready;
    return readerOn(db.sql, s);
  }

  getTenant(id: string) {
    return this.reader().getTenant(id);
  }
  getConnection(id: string) {
    return this.reader().getConnection(id);
  }
  listConnections(tenantId: string) {
    return this.reader().listConnections(tenantId);
  }
  getDomain(domain: string) {
    return this.reader().getDomain(domain);
  }
  listDomains(tenantId: string) {
    return this.reader().listDomains(tenantId);
  }
  listConfigurationEvents(query: ConfigurationEventQuery) {
    return this.reader().listConfigurationEvents(query);
  }

  async configurationVersion(): Promise<number> {
    const { db, s } = this.ready;
    const [row] = await db.sql.rows(s.version, []);
    // Tables made by `synchronize` (tests, demos) have no row until the first change.
    return row ? Number(row['version']) : 0;
  }

  async loadConnection(id: string): Promise<LoadedConnection | null> {
    const { db, s } = this.ready;
    const [row] = await db.sql.rows(s.getConnection, [id]);
    if (!row) return null;
    const connection = connectionOf(row);
    const [tenantRow] = await db.sql.rows(s.getTenant, [connection.tenantId]);
    const domains = await db.sql.rows(s.verifiedDomains, [connection.tenantId]);
    return {
      connection,
      tenant: tenantRow ? tenantOf(tenantRow) : null,
      verifiedDomains: domains.map((d) => String(d['domain'])),
    };
  }

  configurationTransaction<T>(work: (tx: ConfigurationTransaction) => Promise<T>): Promise<T> {
    let ready: { db: Database; s: Statements };
    try {
      ready = this.ready;
    } catch (error) {
      return Promise.reject(error);
    }
    const { db, s } = ready;
    return db.transaction((sql) => {
      const tx: ConfigurationTransaction = {
        ...readerOn(sql, s),
        async nextVersion() {
          if ((await sql.run(s.bump, [])) !== 1) await sql.run(s.firstVersion, []);
          const [row] = await sql.rows(s.version, []);
          return Number(row!['version']);
        },
        async putTenant(t) {
          const changed = await sql.run(s.updateTenant, [
            t.displayName,
            t.seatLimit,
            t.requireProvisionedUsers ? 1 : 0,
            t.version,
            t.updatedAt.getTime(),
            t.id,
          ]);
          if (changed === 0) {
            await sql.run(s.insertTenant, [
              t.id,
              t.displayName,
              t.seatLimit,
              t.requireProvisionedUsers ? 1 : 0,
              t.version,
              t.createdAt.getTime(),
              t.updatedAt.getTime(),
            ]);
          }
        },
        async deleteTenant(id) {
          await sql.run(s.deleteTenant, [id]);
        },
        async putConnection(c) {
          const definition = JSON.stringify(c.definition);
          const protocol = c.definition.protocol;
          const changed = await sql.run(s.updateConnection, [
            c.tenantId,
            protocol,
            definition,
            c.version,
            c.updatedAt.getTime(),
            c.id,
          ]);
          if (changed === 0) {
            await sql.run(s.insertConnection, [
              c.id,
              c.tenantId,
              protocol,
              definition,
              c.version,
              c.createdAt.getTime(),
              c.updatedAt.getTime(),
            ]);
          }
        },
        async deleteConnection(id) {
          await sql.run(s.deleteConnection, [id]);
        },
        async insertDomain(d) {
          await sql.run(s.insertDomain, [
            d.domain,
            d.tenantId,
            d.status,
            d.challenge,
            d.version,
            d.createdAt.getTime(),
            d.verifiedAt?.getTime() ?? null,
          ]);
        },
        async updateDomain(d) {
          await sql.run(s.updateDomain, [
            d.tenantId,
            d.status,
            d.challenge,
            d.version,
            d.verifiedAt?.getTime() ?? null,
            d.domain,
          ]);
        },
        async deleteDomain(domain) {
          await sql.run(s.deleteDomain, [domain]);
        },
        async appendConfigurationEvent(e) {
          await sql.run(s.insertEvent, [
            e.id,
            e.at.getTime(),
            e.version,
            e.tenantId,
            e.actor.slice(0, 255),
            e.action,
            e.target.slice(0, 255),
            JSON.stringify(e.changes),
          ]);
          // The change's audit event, marked for the outbox: its `config.changed` event commits with it.
          const audit = configurationAuditEvent(e);
          if (audit && s.insertAudit && s.insertPending) {
            await sql.run(s.insertAudit, [
              audit.id,
              audit.at.getTime(),
              clip(audit.tenantId, 128),
              audit.actor,
              audit.action,
              clip(audit.connectionId, 128),
              clip(audit.subject, 512),
              null,
              clip(audit.reason, 255),
              JSON.stringify(audit.changes),
            ]);
            await sql.run(s.insertPending, [audit.id]);
          }
        },
      };
      return work(tx);
    });
  }
}

const classifyConfiguration = () => 'other' as const;
