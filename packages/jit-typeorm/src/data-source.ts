import { DataSource, type DataSourceOptions } from 'typeorm';
import { ConfigurationError } from '@jit-sso/core';
import { jitEntitiesFor, jitMigrations, type JitDialect } from './schema.js';

export interface JitDataSourceOptions {
  /** Create tables from the entities at start-up. Only for tests and demos; use `migrate` otherwise. */
  synchronize?: boolean;
  logging?: boolean;
  /** More entities of the app, next to `jitEntities`. */
  entities?: NonNullable<DataSourceOptions['entities']>;
  /**
   * SQLite's page cache, in MiB (default 64). Lookups by userName, subject or id read a few random
   * pages of large indexes; once those no longer fit in the cache, every read is a system call and
   * lookups slow down as the directory grows.
   */
  sqliteCacheMiB?: number;
}

/** The table TypeORM records applied migrations in, for data sources made here. */
export const MIGRATIONS_TABLE = 'jit_migrations';

/** How long a SQLite connection waits for another process's write lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;
const SQLITE_CACHE_MIB = 64;

/** The DataSource options for a database URL, with the package's entities and the dialect's migrations. */
export function jitDataSourceOptions(url: string, options: JitDataSourceOptions = {}): DataSourceOptions {
  const dialect = dialectOfUrl(url);
  const common = {
    entities: [
      ...jitEntitiesFor(dialect),
      ...((options.entities as unknown[] | undefined) ?? []),
    ] as DataSourceOptions['entities'],
    synchronize: options.synchronize ?? false,
    logging: options.logging ?? false,
    migrationsTableName: MIGRATIONS_TABLE,
  };
  const migrations = jitMigrations(dialect);
  if (dialect === 'sqlite') {
    const path = url.replace(/^sqlite:(\/\/)?/, '');
    if (!path)
      throw new ConfigurationError(
        `The SQLite URL "${url}" has no path: use sqlite:<file> or sqlite::memory:.`,
      );
    const memory = path === ':memory:';
    const cacheMiB = options.sqliteCacheMiB ?? SQLITE_CACHE_MIB;
    if (!(cacheMiB > 0))
      throw new ConfigurationError(`sqliteCacheMiB must be a positive number of MiB, not ${cacheMiB}.`);
    return {
      ...common,
      type: 'better-sqlite3',
      database: path,
      migrations,
      // WAL lets readers run beside the writer; NORMAL sync is safe with WAL (a power cut may lose
      // the last commits, never corrupt); other processes' write locks are waited for.
      enableWAL: !memory,
      prepareDatabase: (db: { pragma(sql: string): unknown }) => {
        db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
        // A negative cache_size is in KiB.
        db.pragma(`cache_size = -${Math.round(cacheMiB * 1024)}`);
        if (!memory) db.pragma('synchronous = NORMAL');
      },
    };
  }
  if (dialect === 'postgres') return { ...common, type: 'postgres', url, migrations };
  return {
    ...common,
    type: /^mariadb:/i.test(url) ? 'mariadb' : 'mysql',
    url: url.replace(/^mariadb:/i, 'mysql:'),
    migrations,
    charset: 'utf8mb4',
    timezone: 'Z',
  };
}

export function dialectOfUrl(url: string): JitDialect {
  if (/^sqlite:/i.test(url)) return 'sqlite';
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^(mysql|mariadb):\/\//i.test(url)) return 'mysql';
  throw new ConfigurationError(
    `Unsupported database URL "${redact(url)}": use sqlite:<file>, sqlite::memory:, postgres://, mysql:// or mariadb://.`,
  );
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** An initialised DataSource for `url`, with `jitEntitiesFor(dialect)` and the dialect's migrations registered. */
export async function createJitDataSource(
  url: string,
  options: JitDataSourceOptions = {},
): Promise<DataSource> {
  const dataSource = new DataSource(jitDataSourceOptions(url, options));
  await dataSource.initialize();
  return dataSource;
}

/** Runs the pending migrations registered on the DataSource, each in its own transaction; returns their names. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const ran = await dataSource.runMigrations({ transaction: 'each' });
  return ran.map((migration) => migration.name);
}
