import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createJitDataSource, migrate, TypeormDirectoryStore } from '@jit-sso/typeorm';
import {
  createDirectory,
  createScimService,
  issueDirectoryToken,
  type ScimRequest,
  type ScimResponse,
  type ScimService,
  type ScimServiceOptions,
} from '@jit-sso/scim';

/** The servers of the development machine and CI; override with JIT_TEST_POSTGRES_URL / JIT_TEST_MYSQL_URL. */
const POSTGRES_SERVER = process.env['JIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const MYSQL_SERVER = process.env['JIT_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';

export type DatabaseName = 'SQLite' | 'PostgreSQL' | 'MariaDB';
export const DATABASES: readonly DatabaseName[] = ['SQLite', 'PostgreSQL', 'MariaDB'];

/** A new, empty database of this suite's own on `database`; returns its URL and how to remove it. */
async function freshDatabase(database: DatabaseName, name: string): Promise<{ url: string; drop(): void }> {
  if (database === 'SQLite') {
    const dir = mkdtempSync(join(tmpdir(), 'jit-scim-db-'));
    return {
      url: `sqlite:${join(dir, `${name}.sqlite`)}`,
      drop: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (database === 'PostgreSQL') {
    const admin = new pg.Client({ connectionString: `${POSTGRES_SERVER}/test` });
    await admin.connect();
    try {
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    return { url: `${POSTGRES_SERVER}/${name}`, drop: () => undefined };
  }
  const admin = await mysql.createConnection(MYSQL_SERVER);
  try {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  return { url: `${MYSQL_SERVER.replace(/^mysql:/, 'mariadb:')}/${name}`, drop: () => undefined };
}

/** One SCIM service, as one copy of the app serves it. */
export interface ScimCopy {
  dataSource: DataSource;
  store: TypeormDirectoryStore;
  service: ScimService;
}

/**
 * The SCIM service on one database, served by `copies` copies of the app (each with its own
 * DataSource and pool, as processes behind a load balancer have; one on SQLite), with one directory
 * and its token.
 */
export interface ScimDeployment {
  database: DatabaseName;
  directoryId: string;
  copies: ScimCopy[];
  token: string;
  /** Sends a request with the directory's token to copy `i % copies` (default: the first). */
  request(request: ScimRequest, copy?: number): Promise<ScimResponse>;
  close(): Promise<void>;
}

export async function deployScim(
  database: DatabaseName,
  name: string,
  options: {
    copies?: number;
    /** Options of each copy's service, or a function of the copy's store that returns them. */
    service?: Partial<ScimServiceOptions> | ((store: TypeormDirectoryStore) => Partial<ScimServiceOptions>);
    /** The connection whose role rules map the directory's groups to roles. */
    connectionId?: string;
  } = {},
): Promise<ScimDeployment> {
  const fresh = await freshDatabase(database, name);
  const copies: ScimCopy[] = [];
  // SQLite is one file of one process here: a second DataSource in the same process would wait for
  // the first's write lock synchronously, blocking the event loop that would release it. Processes
  // sharing a SQLite file are tested in @jit-sso/typeorm.
  const count = database === 'SQLite' ? 1 : (options.copies ?? 2);
  try {
    for (let i = 0; i < count; i++) {
      const dataSource = await createJitDataSource(fresh.url);
      if (i === 0) await migrate(dataSource);
      const store = new TypeormDirectoryStore(dataSource);
      const service = createScimService({
        store,
        baseUrl: 'https://app.example.test/scim/v2',
        ...(typeof options.service === 'function' ? options.service(store) : options.service),
      });
      copies.push({ dataSource, store, service });
    }
  } catch (error) {
    await Promise.all(copies.map((c) => c.dataSource.destroy()));
    throw error;
  }
  const first = copies[0]!.store;
  const directory = await createDirectory(first, {
    tenantId: 'acme',
    name: 'Acme directory',
    connectionId: options.connectionId ?? null,
  });
  const { token } = await issueDirectoryToken(first, directory.id, { label: 'tests' });
  return {
    database,
    directoryId: directory.id,
    copies,
    token,
    request(request, copy = 0) {
      const { service } = copies[copy % copies.length]!;
      return service.handle({
        ...request,
        headers: { authorization: `Bearer ${token}`, ...request.headers },
      });
    },
    async close() {
      await Promise.all(copies.map((c) => c.dataSource.destroy()));
      fresh.drop();
    },
  };
}

/** The statuses of `responses`, counted: `{ 200: 1, 412: 19 }`. */
export function statusCounts(responses: readonly ScimResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** What the app's store sent to the database and read back while counting. */
export interface StatementCount {
  statements: number;
  rows: number;
  /** The statements' texts, in order. */
  sql: string[];
}

/**
 * Counts the statements a copy's store runs and the rows they return, from the driver's side:
 * PostgreSQL's client and MariaDB's query runner (each connection the DataSource hands out) and
 * SQLite's prepared statements. `count(work)` runs `work` and returns what it cost.
 */
export function statementCounter(copy: ScimCopy): {
  count(work: () => Promise<unknown>): Promise<StatementCount>;
} {
  let counting: StatementCount | null = null;
  const tally = (rows: unknown, sql: unknown) => {
    if (!counting) return;
    counting.statements++;
    counting.rows += Array.isArray(rows) ? rows.length : 0;
    counting.sql.push(typeof sql === 'string' ? sql : String((sql as { text?: unknown } | null)?.text ?? ''));
  };
  const dataSource = copy.dataSource;
  if (dataSource.options.type === 'better-sqlite3') {
    const connection = (
      dataSource.driver as unknown as { databaseConnection: { prepare(sql: string): object } }
    ).databaseConnection;
    const statement = Object.getPrototypeOf(connection.prepare('SELECT 1')) as Record<
      string,
      (...args: unknown[]) => unknown
    >;
    const all = statement['all']!;
    const run = statement['run']!;
    const get = statement['get']!;
    statement['all'] = function (this: unknown, ...args: unknown[]) {
      const rows = all.apply(this, args);
      tally(rows, (this as { source: string }).source);
      return rows;
    };
    statement['run'] = function (this: unknown, ...args: unknown[]) {
      tally(null, (this as { source: string }).source);
      return run.apply(this, args);
    };
    statement['get'] = function (this: unknown, ...args: unknown[]) {
      const row = get.apply(this, args);
      tally(row === undefined ? [] : [row], (this as { source: string }).source);
      return row;
    };
  } else {
    const createQueryRunner = dataSource.createQueryRunner.bind(dataSource);
    dataSource.createQueryRunner = (mode) => {
      const runner = createQueryRunner(mode);
      const query = runner.query.bind(runner);
      runner.query = (async (sql: string, params?: unknown[], structured?: boolean) => {
        const result = await query(sql, params, structured as true);
        tally((result as { records?: unknown[] }).records ?? result, sql);
        return result;
      }) as typeof runner.query;
      const connect = runner.connect.bind(runner);
      runner.connect = async () => {
        const client = (await connect()) as { query(...args: unknown[]): Promise<{ rows?: unknown[] }> };
        if (dataSource.options.type !== 'postgres') return client;
        return new Proxy(client, {
          get(target, key) {
            if (key !== 'query') {
              const value = (target as unknown as Record<string | symbol, unknown>)[key];
              return typeof value === 'function' ? value.bind(target) : value;
            }
            return async (...args: unknown[]) => {
              const result = await target.query(...args);
              tally(result?.rows, args[0]);
              return result;
            };
          },
        });
      };
      return runner;
    };
  }
  return {
    async count(work) {
      counting = { statements: 0, rows: 0, sql: [] };
      try {
        await work();
        return counting;
      } finally {
        counting = null;
      }
    },
  };
}
