import { MoreThan, type DataSource, type FindOptionsWhere } from 'typeorm';
import {
  createJitDataSource,
  JitUserEntity,
  migrate,
  MIGRATIONS_TABLE,
  TypeormDirectoryStore,
  type JitUser,
} from '@jit-sso/typeorm';
import type { IdentityStore, UserQuery, UserRecord, UserStatus } from '@jit-sso/core';
import { CliError } from './errors.js';
import { databaseKind, redactUrl, type Backend } from './backend.js';

/** `--database-url` as the TypeORM store takes it: a bare path or `file:` URL is a SQLite file. */
export function storeUrl(url: string): string {
  if (databaseKind(url) !== 'sqlite') return url;
  if (/^sqlite:/i.test(url)) return url;
  if (/^file:/i.test(url)) return `sqlite:${url.replace(/^file:(\/\/)?/i, '')}`;
  return `sqlite:${url}`;
}

async function appliedMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    if (!(await runner.hasTable(MIGRATIONS_TABLE))) return [];
    const rows: Array<{ name: string }> = await dataSource
      .createQueryBuilder()
      .select('m.name', 'name')
      .from(MIGRATIONS_TABLE, 'm')
      .orderBy('m.timestamp', 'ASC')
      .getRawMany();
    return rows.map((r) => r.name);
  } finally {
    await runner.release();
  }
}

/**
 * Answers `listUsers` queries by email or external id through the user repository (indexed by
 * tenant and email), for store versions whose `listUsers` does not filter on them yet.
 */
function withUserLookups(store: TypeormDirectoryStore, dataSource: DataSource): IdentityStore {
  const users = dataSource.getRepository(JitUserEntity);
  const lookup = async (query: UserQuery): Promise<UserRecord[]> => {
    const where: FindOptionsWhere<JitUser> = {};
    if (query.email !== undefined) where.email = query.email;
    if (query.externalId !== undefined) where.externalId = query.externalId;
    if (query.tenantId !== undefined) where.tenantId = query.tenantId;
    if (query.status !== undefined) where.status = query.status;
    if (query.source !== undefined) where.source = query.source;
    if (query.afterId !== undefined) where.id = MoreThan(query.afterId);
    const found = (await users.find({ where, order: { id: 'ASC' }, take: query.limit })) as UserRecord[];
    return query.notSeenSince === undefined
      ? found
      : found.filter((u) => (u.lastLoginAt ?? u.createdAt) < query.notSeenSince!);
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'listUsers') {
        return (query: UserQuery) =>
          query.email === undefined && query.externalId === undefined
            ? target.listUsers(query)
            : lookup(query);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Opens the database with the TypeORM store (SQLite, PostgreSQL, MySQL/MariaDB). */
export async function openTypeormBackend(url: string): Promise<Backend> {
  const description = redactUrl(url);
  let dataSource: DataSource;
  try {
    dataSource = await createJitDataSource(storeUrl(url));
  } catch (error) {
    throw new CliError('DATABASE_UNAVAILABLE', `Cannot open ${description}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const store = withUserLookups(new TypeormDirectoryStore(dataSource), dataSource);
  const migrations = async () => {
    const applied = await appliedMigrations(dataSource);
    const known = dataSource.migrations.map((m) => m.name ?? m.constructor.name);
    return { applied, pending: known.filter((name) => !applied.includes(name)) };
  };
  return {
    store,
    description,
    migrate: () => migrate(dataSource),
    migrations,
    async tenantCounts() {
      const rows: Array<{ tenantId: string; status: UserStatus; n: string | number }> = await dataSource
        .getRepository(JitUserEntity)
        .createQueryBuilder('u')
        .select('u.tenantId', 'tenantId')
        .addSelect('u.status', 'status')
        .addSelect('COUNT(*)', 'n')
        .groupBy('u.tenantId')
        .addGroupBy('u.status')
        .getRawMany();
      const byTenant = new Map<string, Record<UserStatus, number>>();
      for (const row of rows) {
        let entry = byTenant.get(row.tenantId);
        if (!entry) byTenant.set(row.tenantId, (entry = { active: 0, deactivated: 0 }));
        entry[row.status] = Number(row.n);
      }
      return [...byTenant.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([tenantId, c]) => ({ tenantId, ...c }));
    },
    close: () => dataSource.destroy(),
  };
}
