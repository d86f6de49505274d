import type { DataSource, EntityTarget } from 'typeorm';
import {
  StoreConflictError,
  StoreError,
  type AttributePath,
  type DirectoryRecord,
  type DirectoryStore,
  type DirectoryTokenRecord,
  type DirectoryTransaction,
  type GroupMember,
  type MembershipChange,
  type NewScimResource,
  type ResourcePage,
  type ResourceQuery,
  type ScimResourcePatch,
  type ScimResourceRecord,
  type ScimFilter,
  type ScimResourceType,
  type StoreTransaction,
} from '@jit-sso/core';
import { JitUserEntity } from '../schema.js';
import { openDatabase, type Database, type Row, type Sql } from '../sql.js';
import { Transaction, TypeormStore, type TypeormStoreOptions } from '../store.js';
import {
  ScimCountEntity,
  ScimDirectoryEntity,
  ScimMemberEntity,
  ScimResourceEntity,
  ScimTokenEntity,
  ScimValueEntity,
} from './schema.js';
import { translateFilter, type TranslateContext } from './translate.js';
import { valueRows, type ValueRow } from './values.js';

const toDate = (value: unknown) => new Date(Number(value));

interface Tables {
  directories: string;
  counts: string;
  tokens: string;
  resources: string;
  members: string;
  values: string;
  users: string;
  userId: string;
  userStatus: string;
  /** `RESOURCE_COLUMNS`, quoted and joined. */
  resourceColumns: string;
  /** The columns of a `jit_scim_values` row, quoted and joined. */
  valueColumns: string;
  /** Statement texts built once per shape (`DirectorySql.text`). */
  texts: Map<string, string>;
}

function resourceFrom(row: Row): ScimResourceRecord {
  return Object.freeze({
    id: row['id'] as string,
    directoryId: row['directory_id'] as string,
    type: row['type'] as ScimResourceType,
    name: row['name'] as string,
    externalId: (row['external_id'] as string | null) ?? null,
    data: Object.freeze(JSON.parse(row['data'] as string) as Record<string, unknown>),
    version: Number(row['version']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
  });
}

/** A resource read with `resourceSelect`: users carry `active`, from the tenant user's status. */
function listedFrom(type: ScimResourceType, row: Row): ScimResourceRecord {
  return type === 'User'
    ? Object.freeze({ ...resourceFrom(row), active: row['user_status'] === 'active' })
    : resourceFrom(row);
}

function directoryFrom(row: Row): DirectoryRecord {
  return Object.freeze({
    id: row['id'] as string,
    tenantId: row['tenant_id'] as string,
    name: row['name'] as string,
    connectionId: (row['connection_id'] as string | null) ?? null,
    createdAt: toDate(row['created_at']),
  });
}

function tokenFrom(row: Row): DirectoryTokenRecord {
  return Object.freeze({
    id: row['id'] as string,
    directoryId: row['directory_id'] as string,
    hash: row['hash'] as string,
    label: row['label'] as string,
    createdAt: toDate(row['created_at']),
    revokedAt: row['revoked_at'] == null ? null : toDate(row['revoked_at']),
  });
}

/** Whether a filter fixes an indexed column with `eq` (a lookup), so few rows can match. */
function selective(filter: ScimFilter, type: ScimResourceType): boolean {
  if (filter.op === 'and') return filter.filters.some((f) => selective(f, type));
  if (filter.op !== 'eq' || filter.attribute.schema !== null || filter.attribute.sub !== null) return false;
  const name = filter.attribute.name;
  return name === 'id' || name === 'externalid' || name === (type === 'User' ? 'username' : 'displayname');
}

/** Whether a filter fixes a user's userName with `eq` (alone or in an `and`). */
function pinsUserName(filter: ScimFilter): boolean {
  if (filter.op === 'and') return filter.filters.some(pinsUserName);
  return (
    filter.op === 'eq' &&
    filter.attribute.schema === null &&
    filter.attribute.sub === null &&
    filter.attribute.name === 'username' &&
    typeof filter.value === 'string'
  );
}

/** The group id of `groups.value eq "…"` (also `groups eq`, `groups[value eq "…"]`), else null. */
function groupOf(filter: ScimFilter): string | null {
  const isGroups = (path: AttributePath) => path.schema === null && path.name === 'groups';
  if (filter.op === 'eq' && isGroups(filter.attribute) && (filter.attribute.sub ?? 'value') === 'value')
    return typeof filter.value === 'string' ? filter.value : null;
  if (filter.op === 'has' && isGroups(filter.attribute) && filter.attribute.sub === null) {
    const inner = filter.filter;
    if (
      inner.op === 'eq' &&
      inner.attribute.schema === null &&
      inner.attribute.name === 'value' &&
      inner.attribute.sub === null &&
      typeof inner.value === 'string'
    )
      return inner.value;
  }
  return null;
}

const classifyDirectoryConflict = (): 'other' => 'other';

/** Ids per statement of `shareResources`. */
const SHARE_BATCH = 50;

/**
 * Rows each directory's count of a resource type is spread over on PostgreSQL and MySQL/MariaDB,
 * where writes run concurrently: a write moves one slot, picked at random, so that 16 concurrent
 * creates rarely wait on one another's row. SQLite runs one write at a time: one slot there.
 */
const COUNT_SLOTS = 64;

const VALUE_COLUMNS = [
  'resource_id',
  'directory_id',
  'attr',
  'attr_top',
  'elem',
  'kind',
  'prefix',
  'text',
  'num',
];

const RESOURCE_COLUMNS = [
  'id',
  'directory_id',
  'type',
  'name',
  'external_id',
  'data',
  'version',
  'created_at',
  'updated_at',
];

/**
 * `TypeormStore` with the SCIM directory tables (`jit_scim_*`): list `jitEntities` (which include
 * them) and run `migrate`. Filters become SQL on indexed columns and the `jit_scim_values` index
 * (see `translateFilter`); nothing is evaluated by loading every row.
 */
export class TypeormDirectoryStore extends TypeormStore implements DirectoryStore {
  private readonly userEntity: EntityTarget<unknown>;
  private directoryDb: { db: Database; t: Tables } | null = null;

  constructor(dataSource: DataSource, options: TypeormStoreOptions = {}) {
    super(dataSource, options);
    this.userEntity = options.userEntity ?? JitUserEntity;
  }

  private get dir(): { db: Database; t: Tables } {
    if (this.directoryDb) return this.directoryDb;
    const base = this.database; // checks that the DataSource is initialised
    const ds = this.dataSource;
    // The resources by name: MySQL has its own entity for that table (ScimResourceEntityMysql).
    const resources = ScimResourceEntity.options.name;
    for (const entity of [
      ScimDirectoryEntity,
      ScimTokenEntity,
      resources,
      ScimMemberEntity,
      ScimValueEntity,
      ScimCountEntity,
    ]) {
      if (!ds.hasMetadata(entity)) {
        throw new StoreError(
          'The DataSource has no SCIM directory entities: add jitEntities to its entities.',
        );
      }
    }
    const users = ds.getMetadata(this.userEntity);
    const q = base.quote;
    const table = (entity: EntityTarget<unknown>) => q(ds.getMetadata(entity).tablePath);
    // A taken userName (USER_NAME_INDEX) is the only unique key the directory tables add.
    const db = openDatabase(ds, classifyDirectoryConflict);
    this.directoryDb = {
      db,
      t: {
        directories: table(ScimDirectoryEntity),
        counts: table(ScimCountEntity),
        tokens: table(ScimTokenEntity),
        resources: table(resources),
        members: table(ScimMemberEntity),
        values: table(ScimValueEntity),
        users: q(users.tablePath),
        userId: users.findColumnWithPropertyName('id')!.databaseName,
        userStatus: users.findColumnWithPropertyName('status')!.databaseName,
        resourceColumns: RESOURCE_COLUMNS.map(q).join(', '),
        valueColumns: VALUE_COLUMNS.map(q).join(', '),
        texts: new Map(),
      },
    };
    return this.directoryDb;
  }

  private reader(): DirectorySql {
    const { db, t } = this.dir;
    return new DirectorySql(db, t, db.sql);
  }

  findDirectory(id: string) {
    return this.reader().findDirectory(id);
  }
  listDirectories(tenantId: string) {
    return this.reader().listDirectories(tenantId);
  }
  findTokenByHash(hash: string) {
    return this.reader().findTokenByHash(hash);
  }
  findTokenWithDirectory(hash: string) {
    return this.reader().findTokenWithDirectory(hash);
  }
  listTokens(directoryId: string) {
    return this.reader().listTokens(directoryId);
  }
  findResource(directoryId: string, type: ScimResourceType, id: string) {
    return this.reader().findResource(directoryId, type, id);
  }
  findUserByUserName(directoryId: string, userName: string) {
    return this.reader().findUserByUserName(directoryId, userName);
  }
  findResourceOfUser(userId: string) {
    return this.reader().findResourceOfUser(userId);
  }
  queryResources(query: ResourceQuery) {
    return this.reader().queryResources(query);
  }
  listMembers(groupId: string) {
    return this.reader().listMembers(groupId);
  }
  listGroupsOfMember(directoryId: string, memberId: string) {
    return this.reader().listGroupsOfMember(directoryId, memberId);
  }

  directoryTransaction<T>(work: (tx: DirectoryTransaction) => Promise<T>): Promise<T> {
    let ready: { db: Database; t: Tables };
    try {
      ready = this.dir;
    } catch (error) {
      return Promise.reject(error);
    }
    return ready.db.transaction((sql) => {
      const base = this.transactionOn(sql);
      return work(
        new CombinedTransaction(
          base,
          new DirectorySql(ready.db, ready.t, sql, base instanceof Transaction ? base : null),
        ),
      );
    });
  }
}

/** One object with the identity store's transaction methods and the directory's (one per transaction). */
class CombinedTransaction implements DirectoryTransaction {
  constructor(
    private readonly base: StoreTransaction,
    private readonly directory: DirectorySql,
  ) {}
  findUserById(...a: Parameters<StoreTransaction['findUserById']>) {
    return this.base.findUserById(...a);
  }
  findUserByEmail(...a: Parameters<StoreTransaction['findUserByEmail']>) {
    return this.base.findUserByEmail(...a);
  }
  findIdentity(...a: Parameters<StoreTransaction['findIdentity']>) {
    return this.base.findIdentity(...a);
  }
  listIdentitiesOfUser(...a: Parameters<StoreTransaction['listIdentitiesOfUser']>) {
    return this.base.listIdentitiesOfUser(...a);
  }
  findDormantUsers(...a: Parameters<StoreTransaction['findDormantUsers']>) {
    return this.base.findDormantUsers(...a);
  }
  listUsers(...a: Parameters<StoreTransaction['listUsers']>) {
    return this.base.listUsers(...a);
  }
  countUsers(...a: Parameters<StoreTransaction['countUsers']>) {
    return this.base.countUsers(...a);
  }
  listAuditEvents(...a: Parameters<StoreTransaction['listAuditEvents']>) {
    return this.base.listAuditEvents(...a);
  }
  insertUser(...a: Parameters<StoreTransaction['insertUser']>) {
    return this.base.insertUser(...a);
  }
  updateUser(...a: Parameters<StoreTransaction['updateUser']>) {
    return this.base.updateUser(...a);
  }
  insertIdentity(...a: Parameters<StoreTransaction['insertIdentity']>) {
    return this.base.insertIdentity(...a);
  }
  acquireSeat(...a: Parameters<StoreTransaction['acquireSeat']>) {
    return this.base.acquireSeat(...a);
  }
  useOnce(...a: Parameters<StoreTransaction['useOnce']>) {
    return this.base.useOnce(...a);
  }
  appendAudit(...a: Parameters<StoreTransaction['appendAudit']>) {
    return this.base.appendAudit(...a);
  }
  findDirectory(...a: Parameters<DirectorySql['findDirectory']>) {
    return this.directory.findDirectory(...a);
  }
  listDirectories(...a: Parameters<DirectorySql['listDirectories']>) {
    return this.directory.listDirectories(...a);
  }
  findTokenByHash(...a: Parameters<DirectorySql['findTokenByHash']>) {
    return this.directory.findTokenByHash(...a);
  }
  findTokenWithDirectory(...a: Parameters<DirectorySql['findTokenWithDirectory']>) {
    return this.directory.findTokenWithDirectory(...a);
  }
  listTokens(...a: Parameters<DirectorySql['listTokens']>) {
    return this.directory.listTokens(...a);
  }
  findResource(...a: Parameters<DirectorySql['findResource']>) {
    return this.directory.findResource(...a);
  }
  lockResource(...a: Parameters<DirectorySql['lockResource']>) {
    return this.directory.lockResource(...a);
  }
  shareResources(...a: Parameters<DirectorySql['shareResources']>) {
    return this.directory.shareResources(...a);
  }
  findUserByUserName(...a: Parameters<DirectorySql['findUserByUserName']>) {
    return this.directory.findUserByUserName(...a);
  }
  findResourceOfUser(...a: Parameters<DirectorySql['findResourceOfUser']>) {
    return this.directory.findResourceOfUser(...a);
  }
  queryResources(...a: Parameters<DirectorySql['queryResources']>) {
    return this.directory.queryResources(...a);
  }
  listMembers(...a: Parameters<DirectorySql['listMembers']>) {
    return this.directory.listMembers(...a);
  }
  listGroupsOfMember(...a: Parameters<DirectorySql['listGroupsOfMember']>) {
    return this.directory.listGroupsOfMember(...a);
  }
  insertDirectory(...a: Parameters<DirectorySql['insertDirectory']>) {
    return this.directory.insertDirectory(...a);
  }
  insertToken(...a: Parameters<DirectorySql['insertToken']>) {
    return this.directory.insertToken(...a);
  }
  revokeToken(...a: Parameters<DirectorySql['revokeToken']>) {
    return this.directory.revokeToken(...a);
  }
  insertResource(...a: Parameters<DirectorySql['insertResource']>) {
    return this.directory.insertResource(...a);
  }
  updateResource(...a: Parameters<DirectorySql['updateResource']>) {
    return this.directory.updateResource(...a);
  }
  deleteResource(...a: Parameters<DirectorySql['deleteResource']>) {
    return this.directory.deleteResource(...a);
  }
  changeMembers(...a: Parameters<DirectorySql['changeMembers']>) {
    return this.directory.changeMembers(...a);
  }
  replaceMembers(...a: Parameters<DirectorySql['replaceMembers']>) {
    return this.directory.replaceMembers(...a);
  }
}

/** The directory statements on one connection. */
class DirectorySql {
  private readonly q: (name: string) => string;
  /**
   * The resources this transaction locked (`lockResource`), as they now are: no other transaction
   * changes them until it ends, so that a write after the lock reads nothing again.
   */
  private readonly locked = new Map<string, ScimResourceRecord>();
  constructor(
    private readonly db: Database,
    private readonly t: Tables,
    private readonly sql: Sql,
    /** The identity store's statements in the same transaction (null outside one). */
    private readonly users: Transaction | null = null,
  ) {
    this.q = db.quote;
  }

  private cols(names: string[], alias = ''): string {
    if (names === RESOURCE_COLUMNS && !alias) return this.t.resourceColumns;
    return names.map((n) => `${alias}${this.q(n)}`).join(', ');
  }

  /** A statement text built once for `key` (its shape), then reused. */
  private text(key: string, build: () => string): string {
    let sql = this.t.texts.get(key);
    if (sql === undefined) {
      sql = build();
      if (this.t.texts.size < 1024) this.t.texts.set(key, sql);
    }
    return sql;
  }

  async findDirectory(id: string): Promise<DirectoryRecord | null> {
    const rows = await this.sql.rows(`SELECT * FROM ${this.t.directories} WHERE ${this.q('id')} = ?`, [id]);
    return rows[0] ? directoryFrom(rows[0]) : null;
  }

  async listDirectories(tenantId: string): Promise<DirectoryRecord[]> {
    const rows = await this.sql.rows(
      `SELECT * FROM ${this.t.directories} WHERE ${this.q('tenant_id')} = ? ORDER BY ${this.q('id')}`,
      [tenantId],
    );
    return rows.map(directoryFrom);
  }

  async findTokenByHash(hash: string): Promise<DirectoryTokenRecord | null> {
    const rows = await this.sql.rows(`SELECT * FROM ${this.t.tokens} WHERE ${this.q('hash')} = ?`, [hash]);
    return rows[0] ? tokenFrom(rows[0]) : null;
  }

  async findTokenWithDirectory(
    hash: string,
  ): Promise<{ token: DirectoryTokenRecord; directory: DirectoryRecord } | null> {
    const q = this.q;
    const rows = await this.sql.rows(
      this.text(
        'tokenWithDirectory',
        () =>
          `SELECT t.${q('id')}, t.${q('directory_id')}, t.${q('hash')}, t.${q('label')}, t.${q('created_at')}, t.${q('revoked_at')}, ` +
          `d.${q('tenant_id')} AS ${q('d_tenant_id')}, d.${q('name')} AS ${q('d_name')}, d.${q('connection_id')} AS ${q('d_connection_id')}, d.${q('created_at')} AS ${q('d_created_at')} ` +
          `FROM ${this.t.tokens} t JOIN ${this.t.directories} d ON d.${q('id')} = t.${q('directory_id')} WHERE t.${q('hash')} = ?`,
      ),
      [hash],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      token: tokenFrom(row),
      directory: directoryFrom({
        id: row['directory_id'],
        tenant_id: row['d_tenant_id'],
        name: row['d_name'],
        connection_id: row['d_connection_id'],
        created_at: row['d_created_at'],
      }),
    };
  }

  async listTokens(directoryId: string): Promise<DirectoryTokenRecord[]> {
    const rows = await this.sql.rows(
      `SELECT * FROM ${this.t.tokens} WHERE ${this.q('directory_id')} = ? ORDER BY ${this.q('id')}`,
      [directoryId],
    );
    return rows.map(tokenFrom);
  }

  async findResource(
    directoryId: string,
    type: ScimResourceType,
    id: string,
  ): Promise<ScimResourceRecord | null> {
    const rows = await this.sql.rows(
      `SELECT ${this.cols(RESOURCE_COLUMNS)} FROM ${this.t.resources} WHERE ${this.q('id')} = ? AND ${this.q('directory_id')} = ? AND ${this.q('type')} = ?`,
      [id, directoryId, type],
    );
    return rows[0] ? resourceFrom(rows[0]) : null;
  }

  /**
   * `findResource` with the row locked until the transaction ends (`FOR UPDATE`). SQLite's
   * transactions hold the database's write lock from their start, so there a plain read is enough.
   */
  async lockResource(
    directoryId: string,
    type: ScimResourceType,
    id: string,
  ): Promise<ScimResourceRecord | null> {
    // On PostgreSQL a user's tenant user comes in the same round trip (its row is not locked), for
    // the `findUserById` that every write to a user makes next.
    const users = this.db.dialect === 'postgres' && type === 'User' ? this.users : null;
    const q = this.q;
    const rows = await this.sql.lock(
      users
        ? this.text(
            'lockUser',
            () =>
              `SELECT ${this.cols(RESOURCE_COLUMNS, 'r.')}, ${users.userSelect} FROM ${this.t.resources} r ` +
              `LEFT JOIN ${this.t.users} u ON u.${q(this.t.userId)} = r.${q('id')} ` +
              `WHERE r.${q('id')} = ? AND r.${q('directory_id')} = ? AND r.${q('type')} = ? FOR UPDATE OF r`,
          )
        : this.text(
            'lockResource',
            () =>
              `SELECT ${this.cols(RESOURCE_COLUMNS)} FROM ${this.t.resources} WHERE ${q('id')} = ? AND ${q('directory_id')} = ? AND ${q('type')} = ?${this.db.dialect === 'sqlite' ? '' : ' FOR UPDATE'}`,
          ),
      [id, directoryId, type],
    );
    if (!rows[0]) return null;
    const record = resourceFrom(rows[0]);
    users?.prime(id, rows[0]);
    this.locked.set(id, record);
    return record;
  }

  /** `findResource` of many, under a shared row lock (`FOR SHARE`; nothing more on SQLite, as above). */
  async shareResources(
    directoryId: string,
    type: ScimResourceType,
    ids: readonly string[],
  ): Promise<ScimResourceRecord[]> {
    const share =
      this.db.dialect === 'postgres'
        ? ' FOR SHARE'
        : this.db.dialect === 'mysql'
          ? ' LOCK IN SHARE MODE'
          : '';
    const unique = [...new Set(ids)];
    const found: ScimResourceRecord[] = [];
    // Fixed batch sizes keep the statement cache small and stay under every driver's parameter limit.
    for (let i = 0; i < unique.length; i += SHARE_BATCH) {
      const batch = unique.slice(i, i + SHARE_BATCH);
      const padded = [...batch, ...Array.from({ length: SHARE_BATCH - batch.length }, () => batch[0]!)];
      const rows = await this.sql.lock(
        `SELECT ${this.cols(RESOURCE_COLUMNS)} FROM ${this.t.resources} WHERE ${this.q('directory_id')} = ? AND ${this.q('type')} = ? AND ${this.q('id')} IN (${padded.map(() => '?').join(', ')})${share}`,
        [directoryId, type, ...padded],
      );
      found.push(...rows.map(resourceFrom));
    }
    return found;
  }

  async findUserByUserName(directoryId: string, userName: string): Promise<ScimResourceRecord | null> {
    const rows = await this.sql.rows(
      this.text(
        'userByUserName',
        () =>
          `SELECT ${this.cols(RESOURCE_COLUMNS)} FROM ${this.t.resources} WHERE ${this.q('directory_id')} = ? AND ${this.q('user_name_key')} = ?`,
      ),
      [directoryId, userName.toLowerCase()],
    );
    return rows[0] ? resourceFrom(rows[0]) : null;
  }

  async findResourceOfUser(userId: string): Promise<ScimResourceRecord | null> {
    const rows = await this.sql.rows(
      `SELECT ${this.cols(RESOURCE_COLUMNS)} FROM ${this.t.resources} WHERE ${this.q('id')} = ? AND ${this.q('type')} = 'User'`,
      [userId],
    );
    return rows[0] ? resourceFrom(rows[0]) : null;
  }

  /** The ORDER BY expression for `sortBy`, or null for an attribute in the stored JSON. */
  private sortExpression(
    type: ScimResourceType,
    sortBy: AttributePath,
  ): { sql: string; params: unknown[]; text: boolean } {
    const q = this.q;
    const core = sortBy.schema === null;
    if (core && sortBy.sub === null && sortBy.name === 'id')
      return { sql: `r.${q('id')}`, params: [], text: true };
    if (core && sortBy.sub === null && sortBy.name === 'externalid')
      return { sql: `r.${q('external_id')}`, params: [], text: true };
    if (
      core &&
      sortBy.sub === null &&
      (type === 'User' ? sortBy.name === 'username' : sortBy.name === 'displayname')
    ) {
      return { sql: `r.${q('name_key')}`, params: [], text: true };
    }
    if (core && sortBy.name === 'meta' && sortBy.sub === 'created')
      return { sql: `r.${q('created_at')}`, params: [], text: false };
    if (core && sortBy.name === 'meta' && sortBy.sub === 'lastmodified')
      return { sql: `r.${q('updated_at')}`, params: [], text: false };
    const base = sortBy.sub === null ? sortBy.name : `${sortBy.name}.${sortBy.sub}`;
    const key = sortBy.schema === null ? base : `${sortBy.schema}:${base}`;
    const attrs = sortBy.sub === null ? [key, `${key}.value`] : [key];
    return {
      sql:
        `(SELECT s.${q('text')} FROM ${this.t.values} s WHERE s.${q('resource_id')} = r.${q('id')} ` +
        `AND s.${q('attr')} IN (${attrs.map(() => '?').join(', ')}) AND s.${q('kind')} = 's' ORDER BY s.${q('elem')} LIMIT 1)`,
      params: attrs,
      text: true,
    };
  }

  async queryResources(query: ResourceQuery): Promise<ResourcePage> {
    const groupId = query.type === 'User' && !query.sortBy && query.filter ? groupOf(query.filter) : null;
    if (groupId !== null) {
      const page = await this.membersPage(query, groupId);
      if (page) return page;
    }
    const q = this.q;
    const t = this.t;
    const { columns, join } = this.resourceSelect(query.type);
    // PostgreSQL without statistics (a table filled since its last ANALYZE) rates the (directory,
    // type, id) index as good as the unique (directory, userName) one for `userName eq`, and may walk
    // the whole directory in id order; compared through an expression, the type leaves that lookup
    // the unique index alone (a user's userName key implies its type).
    const byUserName =
      this.db.dialect === 'postgres' && query.type === 'User' && !!query.filter && pinsUserName(query.filter);
    const where = [
      `r.${q('directory_id')} = ?`,
      byUserName ? `(r.${q('type')} || '') = ?` : `r.${q('type')} = ?`,
    ];
    const params: unknown[] = [query.directoryId, query.type];
    if (query.filter) {
      const ctx: TranslateContext = {
        dialect: this.db.dialect,
        type: query.type,
        directoryId: query.directoryId,
        quote: q,
        values: t.values,
        members: t.members,
        resources: t.resources,
        userStatus: t.userStatus,
      };
      const condition = translateFilter(query.filter, ctx);
      where.push(condition.sql);
      params.push(...condition.params);
    }
    // The tenant user is joined only when the filter reads it (`active`): paging then walks one index.
    const needsUser = join !== '' && /\bu\./.test(where.join(' '));
    const from = `FROM ${t.resources} r${needsUser ? join : ''} WHERE ${where.join(' AND ')}`;
    const count = async () =>
      Number((await this.sql.rows(`SELECT COUNT(*) AS ${q('n')} ${from}`, params))[0]?.['n'] ?? 0);
    if (query.limit <= 0) return { total: await count(), resources: [] };
    // With an equality on an indexed column, SQLite (which has no statistics here) would still walk
    // the (directory, type, id) index to avoid sorting; `+` stops that, so the lookup uses its index.
    let order =
      this.db.dialect === 'sqlite' && query.filter && selective(query.filter, query.type)
        ? `+r.${q('id')}`
        : `r.${q('id')}`;
    const orderParams: unknown[] = [];
    if (query.sortBy) {
      const expression = this.sortExpression(query.type, query.sortBy);
      const descending = query.sortOrder === 'descending';
      // Missing values sort last ascending and first descending, as `compareForSort` orders them.
      order =
        `CASE WHEN ${expression.sql} IS NULL THEN ${descending ? 0 : 1} ELSE ${descending ? 1 : 0} END, ` +
        `${expression.sql}${this.db.dialect === 'postgres' && expression.text ? ' COLLATE "C"' : ''} ${descending ? 'DESC' : 'ASC'}, r.${q('id')}`;
      orderParams.push(...expression.params, ...expression.params);
    }
    if (query.offset <= 0 && !query.sortBy) {
      // A first page in id order skips nothing: its rows are read in the same statement.
      const rows = await this.sql.rows(
        `SELECT ${columns} FROM ${t.resources} r${join} WHERE ${where.join(' AND ')} ORDER BY ${order} ${this.db.limit()}`,
        [...params, Math.floor(query.limit)],
      );
      return {
        total: rows.length < query.limit ? rows.length : await count(),
        resources: rows.map((row) => listedFrom(query.type, row)),
      };
    }
    if (!query.filter && !query.sortBy) {
      const page = await this.listPage(query);
      if (page) return page;
    }
    // First the page's ids (OFFSET skips index entries only), then those rows with the user status.
    // In id order, the same statement counts the entries after the page, so that the exact total
    // (offset + page + rest) costs one walk of the index rather than a walk to the page plus a count.
    const countsRest = !query.sortBy && query.offset > 0;
    const pageSql = `SELECT r.${q('id')} AS ${q('id')} ${from} ORDER BY ${order} ${this.db.limit(true)}`;
    const pageParams = [...params, ...orderParams, Math.floor(query.limit), Math.floor(query.offset)];
    const pageRows = countsRest
      ? await this.sql.rows(
          `WITH ${q('page')} AS (${pageSql}) SELECT p.${q('id')} AS ${q('id')}, ` +
            `(SELECT COUNT(*) ${from} AND r.${q('id')} > (SELECT MAX(${q('id')}) FROM ${q('page')})) AS ${q('rest')} ` +
            `FROM ${q('page')} p ORDER BY p.${q('id')}`,
          [...pageParams, ...params],
        )
      : await this.sql.rows(pageSql, pageParams);
    const resources = await this.fetch(
      query.type,
      pageRows.map((row) => row['id'] as string),
    );
    // A short page tells the total without counting.
    const total =
      countsRest && pageRows.length > 0
        ? query.offset + pageRows.length + Number(pageRows[0]!['rest'])
        : resources.length > 0 && resources.length < query.limit
          ? query.offset + resources.length
          : resources.length === 0 && query.offset === 0
            ? 0
            : await count();
    return { total, resources };
  }

  /**
   * The users of `groups.value eq "…"`, in id order: a walk of the group's members in the order of
   * their primary key (group, member) from the page's offset, and the group's member count as the
   * total, so that a page costs the same in a group of ten and one of 100,000. Null when the id
   * names no group exactly (another case, say), or its count is not kept: the filter then runs as
   * any other.
   */
  private async membersPage(query: ResourceQuery, groupId: string): Promise<ResourcePage | null> {
    const q = this.q;
    const t = this.t;
    const [group] = await this.sql.rows(
      `SELECT ${q('member_count')} FROM ${t.resources} WHERE ${q('id')} = ? AND ${q('directory_id')} = ? AND ${q('type')} = 'Group'`,
      [groupId, query.directoryId],
    );
    if (!group || group['member_count'] == null) return null;
    const total = Number(group['member_count']);
    if (query.limit <= 0 || query.offset >= total) return { total, resources: [] };
    const { columns, join } = this.resourceSelect('User');
    // The page's member ids first: joined before the limit, a planner may walk the directory's users
    // in id order (a merge join) until it meets the group's.
    const rows = await this.sql.rows(
      `SELECT ${columns} FROM (SELECT ${q('member_id')} FROM ${t.members} WHERE ${q('group_id')} = ? ` +
        `ORDER BY ${q('member_id')} ${this.db.limit(true)}) m ` +
        `JOIN ${t.resources} r ON r.${q('id')} = m.${q('member_id')}${join} ` +
        `WHERE r.${q('directory_id')} = ? AND r.${q('type')} = 'User' ORDER BY r.${q('id')}`,
      [groupId, Math.floor(query.limit), Math.floor(query.offset), query.directoryId],
    );
    return { total, resources: rows.map((row) => listedFrom('User', row)) };
  }

  /**
   * A page of an unfiltered list in id order: the total is the directory's count, and the page is
   * reached from whichever end of the (directory, type, id) index is nearer, so that no walk passes
   * more than half of the directory. The statement reads the count again beside the page; when a
   * change came between the two reads, the page is taken again (null after three tries: the caller
   * then counts).
   */
  private async listPage(query: ResourceQuery): Promise<ResourcePage | null> {
    const q = this.q;
    const t = this.t;
    const countSql = `SELECT COALESCE(SUM(c.${q('n')}), 0) AS ${q('n')} FROM ${t.counts} c WHERE c.${q('directory_id')} = ? AND c.${q('type')} = ?`;
    const countParams = [query.directoryId, query.type];
    const readCount = async () => {
      const [row] = await this.sql.rows(countSql, countParams);
      return Number(row?.['n'] ?? 0);
    };
    let total = await readCount();
    const offset = Math.floor(query.offset);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (offset >= total) return { total, resources: [] };
      const n = Math.min(Math.floor(query.limit), total - offset);
      const reverse = offset > total - offset - n;
      const pageRows = await this.sql.rows(
        `SELECT r.${q('id')} AS ${q('id')}, (${countSql}) AS ${q('total')} FROM ${t.resources} r ` +
          `WHERE r.${q('directory_id')} = ? AND r.${q('type')} = ? ORDER BY r.${q('id')}${reverse ? ' DESC' : ''} ${this.db.limit(true)}`,
        [...countParams, query.directoryId, query.type, n, reverse ? total - offset - n : offset],
      );
      const seen = pageRows.length ? Number(pageRows[0]!['total']) : await readCount();
      if (seen !== total || pageRows.length !== n) {
        total = seen;
        continue;
      }
      const ids = pageRows.map((row) => row['id'] as string);
      if (reverse) ids.reverse();
      return { total, resources: await this.fetch(query.type, ids) };
    }
    return null;
  }

  /** The resources with these ids, in this order, with the user status of users. */
  private async fetch(type: ScimResourceType, ids: string[]): Promise<ScimResourceRecord[]> {
    if (!ids.length) return [];
    const { columns, join } = this.resourceSelect(type);
    const rows = await this.sql.rows(
      `SELECT ${columns} FROM ${this.t.resources} r${join} WHERE r.${this.q('id')} IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    const position = new Map(ids.map((id, i) => [id, i]));
    rows.sort((a, b) => position.get(a['id'] as string)! - position.get(b['id'] as string)!);
    return rows.map((row) => listedFrom(type, row));
  }

  /** What reads listed resources of `type` (`r`): their columns and, for users, the tenant user's status. */
  private resourceSelect(type: ScimResourceType): { columns: string; join: string } {
    const q = this.q;
    const t = this.t;
    if (type !== 'User') return { columns: this.cols(RESOURCE_COLUMNS, 'r.'), join: '' };
    return {
      columns: `${this.cols(RESOURCE_COLUMNS, 'r.')}, u.${q(t.userStatus)} AS ${q('user_status')}`,
      join: ` JOIN ${t.users} u ON u.${q(t.userId)} = r.${q('id')}`,
    };
  }

  async listMembers(groupId: string): Promise<GroupMember[]> {
    const rows = await this.sql.rows(
      `SELECT ${this.q('member_id')}, ${this.q('display')} FROM ${this.t.members} WHERE ${this.q('group_id')} = ? ORDER BY ${this.q('member_id')}`,
      [groupId],
    );
    return rows.map((r) =>
      Object.freeze({ value: r['member_id'] as string, display: (r['display'] as string | null) ?? null }),
    );
  }

  async listGroupsOfMember(directoryId: string, memberId: string): Promise<ScimResourceRecord[]> {
    const rows = await this.sql.rows(
      `SELECT ${this.cols(RESOURCE_COLUMNS, 'r.')} FROM ${this.t.members} m JOIN ${this.t.resources} r ON r.${this.q('id')} = m.${this.q('group_id')} ` +
        `WHERE m.${this.q('member_id')} = ? AND m.${this.q('directory_id')} = ? ORDER BY r.${this.q('id')}`,
      [memberId, directoryId],
    );
    return rows.map(resourceFrom);
  }

  async insertDirectory(directory: DirectoryRecord): Promise<DirectoryRecord> {
    await this.sql.run(
      `INSERT INTO ${this.t.directories} (${this.cols(['id', 'tenant_id', 'name', 'connection_id', 'created_at'])}) VALUES (?, ?, ?, ?, ?)`,
      [
        directory.id,
        directory.tenantId,
        directory.name,
        directory.connectionId,
        directory.createdAt.getTime(),
      ],
    );
    return Object.freeze({ ...directory });
  }

  async insertToken(token: Omit<DirectoryTokenRecord, 'revokedAt'>): Promise<DirectoryTokenRecord> {
    await this.sql.run(
      `INSERT INTO ${this.t.tokens} (${this.cols(['id', 'directory_id', 'hash', 'label', 'created_at', 'revoked_at'])}) VALUES (?, ?, ?, ?, ?, NULL)`,
      [token.id, token.directoryId, token.hash, token.label, token.createdAt.getTime()],
    );
    return Object.freeze({ ...token, revokedAt: null });
  }

  async revokeToken(tokenId: string, at: Date): Promise<void> {
    await this.sql.run(
      `UPDATE ${this.t.tokens} SET ${this.q('revoked_at')} = ? WHERE ${this.q('id')} = ? AND ${this.q('revoked_at')} IS NULL`,
      [at.getTime(), tokenId],
    );
  }

  private async writeValues(
    resourceId: string,
    directoryId: string,
    rows: readonly ValueRow[],
  ): Promise<void> {
    const columns = this.t.valueColumns;
    // Batches of a fixed size keep the statement cache small and stay under every driver's parameter
    // limit. The rows of a resource of usual size go out with the transaction's other writes (on
    // PostgreSQL, one statement); a large resource's at once, so that no statement grows with it.
    const BATCH = 16;
    const hold = rows.length <= HELD_VALUE_ROWS;
    for (let i = 0; i < rows.length; i += BATCH) {
      const batch = rows.slice(i, i + BATCH);
      const sql = this.text(
        `values:${batch.length}`,
        () =>
          `INSERT INTO ${this.t.values} (${columns}) VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      );
      await (hold ? this.sql.write.bind(this.sql) : this.sql.run.bind(this.sql))(
        sql,
        batch.flatMap((r) => [
          resourceId,
          directoryId,
          r.attr,
          r.attrTop,
          r.elem,
          r.kind,
          r.prefix,
          r.text,
          r.num,
        ]),
      );
    }
  }

  /**
   * Brings a resource's index rows from `before` to `after`: the attributes whose rows differ lose
   * their rows in one DELETE and get the new ones in one INSERT; the others are left alone (a PATCH
   * of two attributes rewrites their rows only).
   */
  private async rewriteValues(
    resourceId: string,
    directoryId: string,
    before: Readonly<Record<string, unknown>>,
    after: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const q = this.q;
    const byAttr = (rows: readonly ValueRow[]) => {
      const out = new Map<string, ValueRow[]>();
      for (const row of rows) {
        const same = out.get(row.attr);
        if (same) same.push(row);
        else out.set(row.attr, [row]);
      }
      return out;
    };
    const key = (rows: readonly ValueRow[] | undefined) =>
      rows ? JSON.stringify(rows.map((r) => [r.elem, r.kind, r.text, r.num])) : '';
    const old = byAttr(valueRows(before));
    const wanted = byAttr(valueRows(after));
    const changed = [...new Set([...old.keys(), ...wanted.keys()])].filter(
      (attr) => key(old.get(attr)) !== key(wanted.get(attr)),
    );
    if (!changed.length) return;
    const stale = changed.filter((attr) => old.has(attr));
    // Held (on PostgreSQL sent with the INSERT: the DELETE sees the rows as they were before it).
    for (const batch of batches(stale)) {
      await this.sql.write(
        `DELETE FROM ${this.t.values} WHERE ${q('resource_id')} = ? AND ${q('attr')} IN (${marks(batch)})`,
        [resourceId, ...batch],
        { key: `values:${resourceId}` },
      );
    }
    await this.writeValues(
      resourceId,
      directoryId,
      changed.flatMap((attr) => wanted.get(attr) ?? []),
    );
  }

  async insertResource(input: NewScimResource): Promise<ScimResourceRecord> {
    const nameKey = input.name.toLowerCase();
    const at = input.createdAt.getTime();
    const json = JSON.stringify(input.data);
    // Held: on PostgreSQL a create (reads, then these writes) is one statement. A taken userName fails
    // it as a conflict there, at the commit, as here elsewhere.
    try {
      await this.sql.write(
        this.text(
          'insertResource',
          () =>
            `INSERT INTO ${this.t.resources} (${this.cols([...RESOURCE_COLUMNS, 'name_key', 'user_name_key', 'member_count'])}) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
        ),
        [
          input.id,
          input.directoryId,
          input.type,
          input.name,
          input.externalId,
          json,
          at,
          at,
          nameKey,
          input.type === 'User' ? nameKey : null,
          input.type === 'Group' ? 0 : null,
        ],
        { key: `resource:${input.id}` },
      );
    } catch (error) {
      if (error instanceof StoreConflictError && error.constraint !== 'deadlock')
        throw new StoreConflictError('other', error);
      throw error;
    }
    await this.writeValues(input.id, input.directoryId, valueRows(input.data));
    await this.count(input.directoryId, input.type, 1);
    return Object.freeze({
      id: input.id,
      directoryId: input.directoryId,
      type: input.type,
      name: input.name,
      externalId: input.externalId,
      // A copy of what was stored, as a later read would return it.
      data: Object.freeze(JSON.parse(json) as Record<string, unknown>),
      version: 1,
      createdAt: input.createdAt,
      updatedAt: input.createdAt,
    });
  }

  async updateResource(id: string, patch: ScimResourcePatch): Promise<ScimResourceRecord> {
    let current = this.locked.get(id);
    if (!current) {
      const rows = await this.sql.rows(
        `SELECT ${this.cols(RESOURCE_COLUMNS)} FROM ${this.t.resources} WHERE ${this.q('id')} = ?`,
        [id],
      );
      if (!rows[0]) throw new StoreError(`updateResource: no resource "${id}"`);
      current = resourceFrom(rows[0]);
    }
    const json = patch.data !== undefined ? JSON.stringify(patch.data) : null;
    const next: ScimResourceRecord = Object.freeze({
      ...current,
      name: patch.name ?? current.name,
      externalId: patch.externalId !== undefined ? patch.externalId : current.externalId,
      // A copy of what is stored, as a later read would return it (an unchanged document is kept).
      data: json !== null ? Object.freeze(JSON.parse(json) as Record<string, unknown>) : current.data,
      version: current.version + 1,
      updatedAt: patch.updatedAt,
    });
    // Only the columns that change: an unchanged indexed column then leaves its index untouched.
    const sets: string[] = [];
    const values: unknown[] = [];
    if (next.name !== current.name) {
      const nameKey = next.name.toLowerCase();
      sets.push(this.q('name'), this.q('name_key'), this.q('user_name_key'));
      values.push(next.name, nameKey, next.type === 'User' ? nameKey : null);
    }
    if (next.externalId !== current.externalId) {
      sets.push(this.q('external_id'));
      values.push(next.externalId);
    }
    if (json !== null) {
      sets.push(this.q('data'));
      values.push(json);
    }
    sets.push(this.q('version'), this.q('updated_at'));
    values.push(next.version, next.updatedAt.getTime());
    await this.sql.write(
      this.text(
        `updateResource:${sets.join(',')}`,
        () =>
          `UPDATE ${this.t.resources} SET ${sets.map((c) => `${c} = ?`).join(', ')} WHERE ${this.q('id')} = ?`,
      ),
      [...values, id],
      { key: `resource:${id}`, atLeastOne: true },
    );
    if (patch.data !== undefined) await this.rewriteValues(id, next.directoryId, current.data, next.data);
    if (this.locked.has(id)) this.locked.set(id, next);
    return next;
  }

  async deleteResource(id: string): Promise<void> {
    const held = this.locked.get(id);
    this.locked.delete(id);
    const [resource] = held
      ? [{ directory_id: held.directoryId, type: held.type }]
      : await this.sql.rows(
          `SELECT ${this.cols(['directory_id', 'type'])} FROM ${this.t.resources} WHERE ${this.q('id')} = ?`,
          [id],
        );
    await this.sql.run(`DELETE FROM ${this.t.values} WHERE ${this.q('resource_id')} = ?`, [id]);
    await this.sql.run(`DELETE FROM ${this.t.members} WHERE ${this.q('group_id')} = ?`, [id]);
    await this.leaveGroups(id);
    await this.sql.run(`DELETE FROM ${this.t.resources} WHERE ${this.q('id')} = ?`, [id]);
    if (resource)
      await this.count(resource['directory_id'] as string, resource['type'] as ScimResourceType, -1);
  }

  /**
   * Removes a member from all its groups and counts it out of each. The groups are locked first, as
   * a write to a group locks it before its member rows, so that the two never wait for each other
   * in opposite orders; a membership committed meanwhile in another group is found by the next round.
   */
  private async leaveGroups(memberId: string): Promise<void> {
    const q = this.q;
    for (;;) {
      const groups = (
        await this.sql.lock(
          `SELECT ${q('id')} FROM ${this.t.resources} WHERE ${q('id')} IN ` +
            `(SELECT ${q('group_id')} FROM ${this.t.members} WHERE ${q('member_id')} = ?) ORDER BY ${q('id')}` +
            (this.db.dialect === 'sqlite' ? '' : ' FOR UPDATE'),
          [memberId],
        )
      ).map((row) => row['id'] as string);
      if (!groups.length) return;
      // One group at a time, counting what each DELETE removed: a write that held a group's lock
      // may have removed the member already, after this read found it.
      let removed = 0;
      for (const groupId of groups) {
        const deleted = await this.sql.run(
          `DELETE FROM ${this.t.members} WHERE ${q('group_id')} = ? AND ${q('member_id')} = ?`,
          [groupId, memberId],
        );
        await this.countMembers(groupId, -deleted);
        removed += deleted;
      }
      // A round that deleted nothing read memberships already gone (a snapshot older than the locks).
      if (!removed) return;
    }
  }

  /**
   * Moves a directory's count of a resource type, in the transaction that inserts or deletes the
   * resource (last in it: the slot's row stays locked until the commit), on one slot of the count
   * (created by its first write).
   */
  private async count(directoryId: string, type: ScimResourceType, by: 1 | -1): Promise<void> {
    const q = this.q;
    const slot = this.db.dialect === 'sqlite' ? 0 : Math.floor(Math.random() * COUNT_SLOTS);
    const upsert = this.text('count', () => {
      const columns = `(${this.cols(['directory_id', 'type', 'slot', 'n'])}) VALUES (?, ?, ?, ?)`;
      return this.db.dialect === 'mysql'
        ? `INSERT INTO ${this.t.counts} ${columns} ON DUPLICATE KEY UPDATE ${q('n')} = ${q('n')} + ?`
        : `INSERT INTO ${this.t.counts} AS c ${columns} ON CONFLICT (${this.cols(['directory_id', 'type', 'slot'])}) DO UPDATE SET ${q('n')} = c.${q('n')} + ?`;
    });
    await this.sql.write(upsert, [directoryId, type, slot, by, by], {
      key: `count:${directoryId}:${type}:${slot}`,
    });
  }

  /**
   * Adds and removes members by their keys: existing rows are found through the primary key
   * (group, member) for additions and the (directory, member key) index for removals, so that a
   * change costs what its lists cost, whatever the size of the group.
   */
  async changeMembers(
    groupId: string,
    add: readonly GroupMember[],
    remove: readonly string[],
  ): Promise<MembershipChange> {
    if (!add.length && !remove.length) return { added: [], removed: [] };
    const directoryId = await this.directoryOfGroup(groupId);
    const q = this.q;
    const removed: string[] = [];
    const keys = [...new Set(remove.map((value) => value.toLowerCase()))];
    for (const batch of batches(keys)) {
      const rows = await this.sql.rows(
        `SELECT ${q('member_id')} FROM ${this.t.members} WHERE ${q('directory_id')} = ? AND ${q('member_key')} IN (${marks(batch)}) AND ${q('group_id')} = ?`,
        [directoryId, ...batch, groupId],
      );
      removed.push(...rows.map((row) => row['member_id'] as string));
    }
    const deleted = await this.deleteMembers(groupId, removed);
    const added = await this.insertMembers(groupId, directoryId, add);
    await this.countMembers(groupId, added.length - deleted);
    return { added, removed };
  }

  /**
   * Sets the members: the rows to remove are read with `NOT IN` the requested ids (the database
   * compares; only what goes is read), the requested ids already present through the primary key.
   * A list too long for one statement's parameters is compared here with the stored ids instead.
   */
  async replaceMembers(groupId: string, members: readonly GroupMember[]): Promise<MembershipChange> {
    const directoryId = await this.directoryOfGroup(groupId);
    const q = this.q;
    const wanted = new Map<string, GroupMember>();
    for (const member of members) if (!wanted.has(member.value)) wanted.set(member.value, member);
    const ids = [...wanted.keys()];
    let removed: string[];
    if (ids.length <= MEMBER_BATCH) {
      const keep = batches(ids)[0] ?? [];
      const rows = await this.sql.rows(
        `SELECT ${q('member_id')} FROM ${this.t.members} WHERE ${q('group_id')} = ?` +
          (keep.length ? ` AND ${q('member_id')} NOT IN (${marks(keep)})` : ''),
        [groupId, ...keep],
      );
      removed = rows.map((row) => row['member_id'] as string);
    } else {
      const rows = await this.sql.rows(
        `SELECT ${q('member_id')} FROM ${this.t.members} WHERE ${q('group_id')} = ?`,
        [groupId],
      );
      removed = rows.map((row) => row['member_id'] as string).filter((id) => !wanted.has(id));
    }
    const deleted = await this.deleteMembers(groupId, removed);
    const added = await this.insertMembers(groupId, directoryId, [...wanted.values()]);
    await this.countMembers(groupId, added.length - deleted);
    return { added, removed };
  }

  /** Moves a group's member count (its row is locked by the write that changes the members). */
  private async countMembers(groupId: string, by: number): Promise<void> {
    if (!by) return;
    const column = this.q('member_count');
    await this.sql.write(
      `UPDATE ${this.t.resources} SET ${column} = ${column} + ? WHERE ${this.q('id')} = ?`,
      [by, groupId],
      { key: `resource:${groupId}` },
    );
  }

  private async directoryOfGroup(groupId: string): Promise<string> {
    const group = await this.sql.rows(
      `SELECT ${this.q('directory_id')} FROM ${this.t.resources} WHERE ${this.q('id')} = ?`,
      [groupId],
    );
    const directoryId = group[0]?.['directory_id'];
    if (typeof directoryId !== 'string') throw new StoreError(`changeMembers: no group "${groupId}"`);
    return directoryId;
  }

  /** Deletes members; returns how many rows went (what the group's count moves by). */
  private async deleteMembers(groupId: string, memberIds: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const batch of batches(memberIds)) {
      deleted += await this.sql.run(
        `DELETE FROM ${this.t.members} WHERE ${this.q('group_id')} = ? AND ${this.q('member_id')} IN (${marks(batch)})`,
        [groupId, ...batch],
      );
    }
    return deleted;
  }

  /** Inserts the members that are not rows yet (found on the primary key); returns their values. */
  private async insertMembers(
    groupId: string,
    directoryId: string,
    members: readonly GroupMember[],
  ): Promise<string[]> {
    const q = this.q;
    const unique = new Map<string, GroupMember>();
    for (const member of members) if (!unique.has(member.value)) unique.set(member.value, member);
    const added: string[] = [];
    for (const batch of batches([...unique.keys()])) {
      const present = new Set(
        (
          await this.sql.rows(
            `SELECT ${q('member_id')} FROM ${this.t.members} WHERE ${q('group_id')} = ? AND ${q('member_id')} IN (${marks(batch)})`,
            [groupId, ...batch],
          )
        ).map((row) => row['member_id'] as string),
      );
      const fresh = [...new Set(batch)].filter((id) => !present.has(id)).map((id) => unique.get(id)!);
      for (const rows of insertSlices(fresh)) {
        await this.sql.run(
          `INSERT INTO ${this.t.members} (${this.cols(['group_id', 'member_id', 'directory_id', 'display', 'display_key', 'member_key'])}) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
          rows.flatMap((member) => [
            groupId,
            member.value,
            directoryId,
            member.display,
            member.display?.toLowerCase() ?? null,
            member.value.toLowerCase(),
          ]),
        );
      }
      added.push(...fresh.map((member) => member.value));
    }
    return added;
  }
}

/** Index rows of a resource, at most, that a transaction holds to send with its other writes. */
const HELD_VALUE_ROWS = 64;

/** Ids per statement when reading or deleting members by id: far below every driver's parameter limit. */
const MEMBER_BATCH = 1024;
/** Rows per member INSERT, at most. */
const INSERT_BATCH = 64;

/**
 * `list` in slices of at most MEMBER_BATCH, each padded (repeating its last id) to a power of two:
 * an `IN` list then has one of eleven lengths, so that a statement cache holds few texts per query.
 */
function batches(list: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < list.length; i += MEMBER_BATCH) {
    const slice = list.slice(i, i + MEMBER_BATCH);
    let size = 1;
    while (size < slice.length) size *= 2;
    while (slice.length < size) slice.push(slice[slice.length - 1]!);
    out.push(slice);
  }
  return out;
}

/** `rows` in slices of INSERT_BATCH, then of descending powers of two: few statement texts. */
function insertSlices<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  for (let size = INSERT_BATCH; size >= 1; size /= 2) {
    while (rows.length - i >= size) {
      out.push(rows.slice(i, i + size));
      i += size;
    }
  }
  return out;
}

const marks = (list: readonly unknown[]) => list.map(() => '?').join(', ');
