import type { DataSource, QueryRunner } from 'typeorm';
import { StoreConflictError, StoreError } from '@jit-sso/core';
import type { JitDialect } from './schema.js';

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

export interface WriteOptions {
  /** Held writes with the same key never share a statement (they touch the same row). */
  key?: string;
  /** The write must change a row; when it changes none the transaction fails with `StoreError`. */
  atLeastOne?: boolean;
}

/** Parameterised SQL with `?` placeholders, on one connection (inside a transaction) or on the pool. */
export interface Sql {
  rows(sql: string, params: readonly unknown[]): Promise<Row[]>;
  /** Runs a write now; resolves to the number of rows it changed. */
  run(sql: string, params: readonly unknown[]): Promise<number>;
  /**
   * A write whose result the caller does not need. A PostgreSQL transaction holds it and sends all
   * held writes as one statement at its next read or at commit; elsewhere it runs at once.
   */
  write(sql: string, params: readonly unknown[], options?: WriteOptions): Promise<void>;
  /** A locking read (`SELECT ... FOR UPDATE`), inside the open transaction. */
  lock(sql: string, params: readonly unknown[]): Promise<Row[]>;
}

/** `write` and `lock` for connections that run every statement at once. */
function immediate(base: Pick<Sql, 'rows' | 'run'>): Sql {
  return {
    rows: base.rows,
    run: base.run,
    lock: base.rows,
    async write(sql, params, options = {}) {
      const changed = await base.run(sql, params);
      if (options.atLeastOne && changed === 0) throw new StoreError('The row to update no longer exists.');
    },
  };
}

/** Which unique key a violation hit, from the key's name (PostgreSQL, MySQL) or columns (SQLite). */
export type ConflictClassifier = (violation: {
  key: string | null;
  message: string;
}) => StoreConflictError['constraint'];

export interface Database {
  readonly dialect: JitDialect;
  /** The dialect's identifier quoting. */
  quote(name: string): string;
  /**
   * `LIMIT ?` (and `LIMIT ? OFFSET ?` with `offset`) taking integer parameters. SQLite re-prepares a
   * statement whose `LIMIT` is a bare parameter on every run (its planner reads the bound value);
   * there the parameters are wrapped in `CAST(? AS INTEGER)`, which it does not.
   */
  limit(offset?: boolean): string;
  /** Reads and writes outside a transaction (each statement on its own). */
  readonly sql: Sql;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
}

export function dialectOf(dataSource: DataSource): JitDialect {
  const type = dataSource.options.type;
  if (type === 'better-sqlite3') return 'sqlite';
  if (type === 'postgres') return 'postgres';
  if (type === 'mysql' || type === 'mariadb') return 'mysql';
  throw new StoreError(
    `@jit-sso/typeorm supports better-sqlite3, postgres, mysql and mariadb, not "${type}".`,
  );
}

interface DriverError {
  code?: string;
  errno?: number;
  constraint?: string;
  message?: string;
  driverError?: DriverError;
}

/**
 * Turns a driver error into the store contract's errors: a unique violation becomes
 * `StoreConflictError` (the engine retries), a deadlock or serialisation failure becomes
 * `StoreConflictError('deadlock')` (also retried), anything else `StoreError`.
 */
export function translateError(dialect: JitDialect, error: unknown, classify: ConflictClassifier): Error {
  if (error instanceof StoreError || error instanceof StoreConflictError) return error;
  const e = ((error as DriverError)?.driverError ?? error) as DriverError;
  const message = String(e?.message ?? error);
  if (dialect === 'postgres') {
    if (e.code === '23505')
      return new StoreConflictError(classify({ key: e.constraint ?? null, message }), error);
    if (e.code === '40P01' || e.code === '40001') return new StoreConflictError('deadlock', error);
  } else if (dialect === 'mysql') {
    if (e.errno === 1062 || e.code === 'ER_DUP_ENTRY') {
      const key = /for key '([^']+)'/.exec(message)?.[1] ?? null;
      return new StoreConflictError(
        classify({ key: key ? key.slice(key.lastIndexOf('.') + 1) : null, message }),
        error,
      );
    }
    if (e.errno === 1213 || e.code === 'ER_LOCK_DEADLOCK') return new StoreConflictError('deadlock', error);
  } else if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new StoreConflictError(classify({ key: null, message }), error);
  }
  return new StoreError('The account database failed.', error);
}

/** `?` placeholders to PostgreSQL's `$1, $2, ...` (the statements here never contain a literal `?`). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A FIFO lock: SQLite has one connection per DataSource, so its transactions run one at a time. */
class Mutex {
  locked = false;
  private readonly waiters: (() => void)[] = [];
  async acquire(): Promise<() => void> {
    if (this.locked) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.locked = true;
    return this.release;
  }
  /** Hands the lock to the next waiter (it stays locked), or unlocks. */
  private readonly release = (): void => {
    const next = this.waiters.shift();
    if (next) next();
    else this.locked = false;
  };
}

interface SqliteStatement {
  reader: boolean;
  all(...params: unknown[]): Row[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  inTransaction: boolean;
}
interface PgClient {
  query(text: string, values: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

const databases = new WeakMap<DataSource, Map<ConflictClassifier, Database>>();
const sqliteLocks = new WeakMap<DataSource, Mutex>();

/**
 * Quotes an identifier, remembering the result: statements are built on every call from a few
 * dozen table and column names, and a cached name costs a map lookup instead of a regex.
 */
function quoter(mark: '"' | '`'): (name: string) => string {
  const quoted = new Map<string, string>();
  const doubled = new RegExp(mark, 'g');
  return (name) => {
    let q = quoted.get(name);
    if (q === undefined) {
      q = `${mark}${name.replace(doubled, mark + mark)}${mark}`;
      if (quoted.size < 1024) quoted.set(name, q);
    }
    return q;
  };
}
const doubleQuoted = quoter('"');
const backQuoted = quoter('`');

/** The SQL access for a DataSource (one per DataSource and classifier). */
export function openDatabase(dataSource: DataSource, classify: ConflictClassifier): Database {
  let byClassifier = databases.get(dataSource);
  if (!byClassifier) databases.set(dataSource, (byClassifier = new Map()));
  let db = byClassifier.get(classify);
  if (!db) {
    const dialect = dialectOf(dataSource);
    db =
      dialect === 'sqlite'
        ? sqliteDatabase(dataSource, classify)
        : dialect === 'postgres'
          ? postgresDatabase(dataSource, classify)
          : mysqlDatabase(dataSource, classify);
    byClassifier.set(classify, db);
  }
  return db;
}

function sqliteDatabase(dataSource: DataSource, classify: ConflictClassifier): Database {
  let lock = sqliteLocks.get(dataSource);
  if (!lock) sqliteLocks.set(dataSource, (lock = new Mutex()));
  const mutex = lock;
  const statements = new Map<string, SqliteStatement>();
  const connection = () =>
    (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
  const statement = (sql: string) => {
    let stmt = statements.get(sql);
    if (!stmt) statements.set(sql, (stmt = connection().prepare(sql)));
    return stmt;
  };
  // better-sqlite3 is synchronous: each statement runs to completion where it is called.
  const direct: Sql = immediate({
    async rows(sql, params) {
      try {
        return statement(sql).all(...params);
      } catch (error) {
        throw translateError('sqlite', error, classify);
      }
    },
    async run(sql, params) {
      try {
        const stmt = statement(sql);
        return stmt.reader ? stmt.all(...params).length : stmt.run(...params).changes;
      } catch (error) {
        throw translateError('sqlite', error, classify);
      }
    },
  });
  // Outside a transaction, wait for a running one so that nobody reads its uncommitted rows.
  const outside: Sql = immediate({
    async rows(sql, params) {
      if (!mutex.locked) return direct.rows(sql, params);
      const release = await mutex.acquire();
      try {
        return await direct.rows(sql, params);
      } finally {
        release();
      }
    },
    async run(sql, params) {
      const release = await mutex.acquire();
      try {
        return await direct.run(sql, params);
      } finally {
        release();
      }
    },
  });
  return {
    dialect: 'sqlite',
    quote: doubleQuoted,
    limit: (offset) =>
      offset ? 'LIMIT CAST(? AS INTEGER) OFFSET CAST(? AS INTEGER)' : 'LIMIT CAST(? AS INTEGER)',
    sql: outside,
    async transaction(work) {
      const release = await mutex.acquire();
      const db = connection();
      try {
        try {
          // IMMEDIATE takes the write lock up front: other processes wait (busy_timeout) instead of failing at upgrade.
          statement('BEGIN IMMEDIATE').run();
        } catch (error) {
          throw translateError('sqlite', error, classify);
        }
        try {
          const result = await work(direct);
          try {
            statement('COMMIT').run();
          } catch (error) {
            throw translateError('sqlite', error, classify);
          }
          return result;
        } catch (error) {
          if (db.inTransaction) {
            try {
              statement('ROLLBACK').run();
            } catch {
              // The transaction is already gone; the original error is what matters.
            }
          }
          throw error;
        }
      } finally {
        release();
      }
    },
  };
}

/** Runs on a QueryRunner's connection, starting and ending the transaction around `work`. */
async function inQueryRunner<T>(
  dataSource: DataSource,
  dialect: JitDialect,
  classify: ConflictClassifier,
  begin: (runner: QueryRunner) => Promise<void>,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner('master');
  try {
    try {
      await runner.connect();
      await begin(runner);
    } catch (error) {
      throw translateError(dialect, error, classify);
    }
    let result: T;
    try {
      result = await work(runner);
    } catch (error) {
      if (runner.isTransactionActive) {
        try {
          await runner.rollbackTransaction();
        } catch {
          // A lost connection: the server has already discarded the transaction.
        }
      }
      throw error;
    }
    try {
      await runner.commitTransaction();
    } catch (error) {
      throw translateError(dialect, error, classify);
    }
    return result;
  } finally {
    try {
      await runner.release();
    } catch {
      // Released with its error already; the pool drops broken connections.
    }
  }
}

interface HeldWrite {
  sql: string;
  params: readonly unknown[];
  options: WriteOptions;
}

/**
 * Held writes as one statement: data-modifying CTEs run atomically, to completion, in one round
 * trip. A write that must change a row is guarded: when it changes none, `1 / 0` fails the whole
 * statement, so nothing is written.
 */
function combine(writes: readonly HeldWrite[]): { sql: string; params: unknown[] } {
  const params = writes.flatMap((w) => w.params);
  if (writes.length === 1 && !writes[0]!.options.atLeastOne) return { sql: writes[0]!.sql, params };
  const ctes = writes.map((w, i) => `w${i} AS (${w.sql} RETURNING 1)`).join(', ');
  const guarded = writes.flatMap((w, i) => (w.options.atLeastOne ? [`(SELECT COUNT(*) FROM w${i})`] : []));
  const check = guarded.length ? `1 / LEAST(${[...guarded, '1'].join(', ')})` : '1';
  return { sql: `WITH ${ctes} SELECT ${check} AS ok`, params };
}

const DIVISION_BY_ZERO = '22012';

function postgresDatabase(dataSource: DataSource, classify: ConflictClassifier): Database {
  const texts = new Map<string, string>();
  const text = (sql: string) => {
    let t = texts.get(sql);
    if (!t) texts.set(sql, (t = numbered(sql)));
    return t;
  };
  // The pg client directly: TypeORM's per-query logging and broadcasting cost more than the statement.
  const query = async (client: PgClient, sql: string, params: readonly unknown[]) => {
    try {
      return await client.query(text(sql), params);
    } catch (error) {
      if ((error as DriverError).code === DIVISION_BY_ZERO) {
        throw new StoreError('The row to update no longer exists.', error);
      }
      throw translateError('postgres', error, classify);
    }
  };
  const connect = async (runner: QueryRunner) => {
    try {
      return (await runner.connect()) as PgClient;
    } catch (error) {
      throw translateError('postgres', error, classify);
    }
  };
  const pooled = async <T>(use: (client: PgClient) => Promise<T>): Promise<T> => {
    const runner = dataSource.createQueryRunner('master');
    try {
      return await use(await connect(runner));
    } finally {
      await runner.release().catch(() => undefined);
    }
  };
  const reader = immediate({
    rows: (sql, params) => pooled(async (client) => (await query(client, sql, params)).rows),
    run: (sql, params) => pooled(async (client) => (await query(client, sql, params)).rowCount ?? 0),
  });

  /**
   * One transaction on one connection, in as few round trips as its statements allow. Under READ
   * COMMITTED every statement sees what committed before it, inside a transaction or not, so reads
   * run before BEGIN; BEGIN is sent at the first immediate write or lock. Held writes go out as one
   * statement at the next read or at commit; a transaction that is only reads and held writes thus
   * never sends BEGIN/COMMIT, and its single write statement is atomic by itself.
   */
  async function transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const runner = dataSource.createQueryRunner('master');
    let begun = false;
    let held: HeldWrite[] = [];
    try {
      const client = await connect(runner);
      const begin = async () => {
        if (!begun) {
          await query(client, 'BEGIN', []);
          begun = true;
        }
      };
      const flush = async () => {
        if (!held.length) return;
        const writes = held;
        held = [];
        const { sql, params } = combine(writes);
        await query(client, sql, params);
      };
      const beforeWrite = async () => {
        await begin();
        await flush();
      };
      const sql: Sql = {
        async rows(statement, params) {
          if (held.length || !/^\s*SELECT\b/i.test(statement)) await beforeWrite();
          return (await query(client, statement, params)).rows;
        },
        async run(statement, params) {
          await beforeWrite();
          return (await query(client, statement, params)).rowCount ?? 0;
        },
        async lock(statement, params) {
          await beforeWrite();
          return (await query(client, statement, params)).rows;
        },
        async write(statement, params, options = {}) {
          if (options.key !== undefined && held.some((w) => w.options.key === options.key))
            await beforeWrite();
          held.push({ sql: statement, params, options });
        },
      };
      let result: T;
      try {
        result = await work(sql);
        if (begun) await flush();
        else if (held.length) {
          // Reads only, then writes: one atomic statement, no BEGIN/COMMIT round trips.
          await flush();
          return result;
        }
        if (begun) await query(client, 'COMMIT', []);
        return result;
      } catch (error) {
        held = [];
        if (begun) await client.query('ROLLBACK', []).catch(() => undefined);
        throw error;
      }
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  return {
    dialect: 'postgres',
    quote: doubleQuoted,
    limit: (offset) => (offset ? 'LIMIT ? OFFSET ?' : 'LIMIT ?'),
    sql: reader,
    transaction,
  };
}

interface MysqlResult {
  records?: Row[];
  affected?: number;
  raw?: unknown;
}

function mysqlDatabase(dataSource: DataSource, classify: ConflictClassifier): Database {
  const on = (runner: QueryRunner): Sql =>
    immediate({
      async rows(sql, params) {
        try {
          const result = (await runner.query(sql, params as unknown[], true)) as MysqlResult;
          return result.records ?? [];
        } catch (error) {
          throw translateError('mysql', error, classify);
        }
      },
      async run(sql, params) {
        try {
          const result = (await runner.query(sql, params as unknown[], true)) as MysqlResult;
          return result.affected ?? 0;
        } catch (error) {
          throw translateError('mysql', error, classify);
        }
      },
    });
  const pooled = async <T>(use: (sql: Sql) => Promise<T>): Promise<T> => {
    const runner = dataSource.createQueryRunner('master');
    try {
      return await use(on(runner));
    } finally {
      await runner.release().catch(() => undefined);
    }
  };
  return {
    dialect: 'mysql',
    quote: backQuoted,
    limit: (offset) => (offset ? 'LIMIT ? OFFSET ?' : 'LIMIT ?'),
    sql: immediate({
      rows: (sql, params) => pooled((s) => s.rows(sql, params)),
      run: (sql, params) => pooled((s) => s.run(sql, params)),
    }),
    // READ COMMITTED: every statement sees what committed before it (as on PostgreSQL), which the
    // seat count needs after taking the tenant lock, and InnoDB takes no gap locks.
    transaction: (work) =>
      inQueryRunner(
        dataSource,
        'mysql',
        classify,
        (runner) => runner.startTransaction('READ COMMITTED'),
        (runner) => work(on(runner)),
      ),
  };
}
