import { statSync } from 'node:fs';
import { DataSource, MoreThan, type DataSourceOptions, type FindOptionsWhere } from 'typeorm';
import {
  jitDataSourceOptions,
  JitUserEntity,
  migrate,
  MIGRATIONS_TABLE,
  TypeormConfigurationStore,
  TypeormDirectoryStore,
  type JitUser,
} from '@jit-sso/typeorm';
import type { IdentityStore, UserQuery, UserRecord, UserStatus } from '@jit-sso/core';
import { CliError } from './errors.js';
import { databaseKind, redactUrl, type Backend, type DatabaseKind, type OpenOptions } from './backend.js';

/** The driver package each database needs: optional peer dependencies, installed by the app. */
export const DRIVER_PACKAGES: Readonly<Record<DatabaseKind, string>> = {
  sqlite: 'better-sqlite3',
  postgres: 'pg',
  mysql: 'mysql2',
};

/** Loads a driver package by name; tests pass their own to simulate a missing one. */
export type LoadDriver = (name: string) => unknown;

/**
 * The installed driver, as `require` gives it (the drivers are CommonJS: their `module.exports` is
 * the namespace's default). A dynamic import works from the ES module build and the CommonJS one.
 */
export const loadInstalledDriver: LoadDriver = async (name) => {
  const loaded = (await import(name)) as { default?: unknown };
  return loaded.default ?? loaded;
};

async function loadDriver(kind: DatabaseKind, description: string, load: LoadDriver): Promise<unknown> {
  const name = DRIVER_PACKAGES[kind];
  try {
    return await load(name);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    // Only the driver itself missing; a broken install of it (a missing dependency) is reported as is.
    if ((code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && message.includes(`'${name}'`)) {
      throw new CliError(
        'DRIVER_MISSING',
        `${description} needs the database driver "${name}", which is not installed.`,
        { hint: `Install it where @jit-sso/cli is installed: npm install ${name}`, cause: error },
      );
    }
    throw new CliError('DATABASE_UNAVAILABLE', `Cannot load the database driver "${name}": ${message}`, {
      cause: error,
    });
  }
}

/** Refuses a SQLite path with no file before anything (TypeORM, better-sqlite3) could create it. */
function requireSqliteFile(path: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new CliError('DATABASE_NOT_FOUND', `There is no SQLite database at ${path}.`, {
      hint: 'Check the path (a relative one is from the current directory); jit migrate creates the database.',
    });
  }
  if (!isFile) throw new CliError('DATABASE_NOT_FOUND', `${path} is not a SQLite database file.`);
}

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

/**
 * Opens the database with the TypeORM store (SQLite, PostgreSQL, MySQL/MariaDB), loading only the
 * driver the URL names. A read-only open never creates a SQLite file or its directory.
 */
export async function openTypeormBackend(
  url: string,
  options: OpenOptions & { loadDriver?: LoadDriver } = { readOnly: false },
): Promise<Backend> {
  const description = redactUrl(url);
  const kind = databaseKind(url);
  const driver = await loadDriver(kind, description, options.loadDriver ?? loadInstalledDriver);
  let dataSourceOptions = { ...jitDataSourceOptions(storeUrl(url)), driver } as DataSourceOptions;
  if (kind === 'sqlite' && options.readOnly && dataSourceOptions.database !== ':memory:') {
    requireSqliteFile(String(dataSourceOptions.database));
    // Not `readonly`: a read-only connection to a WAL database leaves its -wal and -shm files behind,
    // where a normal one removes them on close. Nothing here writes unless the command does.
    dataSourceOptions = { ...dataSourceOptions, fileMustExist: true } as DataSourceOptions;
  }
  let dataSource: DataSource;
  try {
    dataSource = await new DataSource(dataSourceOptions).initialize();
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
    configuration: new TypeormConfigurationStore(dataSource),
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
