/**
 * SCIM benchmark: @jit-sso/scim on @jit-sso/typeorm against BoxyHQ Jackson's directory sync (and, on
 * SQLite, a scimmy server and the floor: jit-scim's statements written by hand on the raw driver),
 * in one run, on one machine.
 *
 *   npm install --prefix bench/scim          # the peers, outside the workspaces
 *   NX_DAEMON=false npx nx run-many -t build -p @jit-sso/scim @jit-sso/typeorm
 *   node_modules/.bin/tsx bench/scim/run.ts [--db sqlite|postgres] [--users 100000] [--ops 2000] [--rounds 2]
 *
 * jit-scim runs from its build (`dist`, what the packages publish), as the peers run from theirs;
 * with `--conditions=source` it runs from the TypeScript sources through tsx instead.
 *
 * Every system is driven in process at its request-handling API (no HTTP): `service.handle` for
 * jit-scim, `directorySyncController.requests.handle` for Jackson (what its API routes call), and
 * the `SCIMMY.Resources.User` methods that scimmy-routers call. Operations, per system:
 * create (POST /Users), lookup (`userName eq` at 1,000 and at N users), list (pages of 100 at random
 * offsets), patch (replace displayName and title); on PostgreSQL also creates and PATCHes from
 * `--concurrency` (16) callers at once. ops/s and p50/p99.
 *
 * The same durability for every system: on SQLite WAL and `synchronous = NORMAL` (set on Jackson's
 * connection too), on PostgreSQL `synchronous_commit = on` (set on every system's database). No
 * system logs: Jackson's logger is given functions that do nothing. Each system runs in its own
 * process, one after the other; with `--rounds`, the order rotates from round to round.
 *
 * On PostgreSQL (JIT_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432, no database),
 * each system of each round gets its own database, JIT_BENCH_DATABASE_PREFIX (default jit_bench) +
 * `_scim_<system>_<round>`, dropped at the end; every system's pool holds 10 connections.
 *
 * `--paired` (SQLite) runs jit-scim and the floor in one process instead, alternating create by
 * create and PATCH by PATCH, and prints both medians and their ratio.
 */
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

const here = import.meta.dirname;
const fromSource = process.execArgv.some((a) => a.includes('conditions=source'));
if (!fromSource && !existsSync(join(here, '..', '..', 'packages', 'jit-scim', 'dist', 'esm', 'index.js'))) {
  console.error(
    'bench/scim measures the built packages: run `NX_DAEMON=false npx nx run-many -t build -p @jit-sso/scim @jit-sso/typeorm` first (or pass --conditions=source to tsx).',
  );
  process.exit(2);
}
const require = createRequire(join(here, 'package.json'));
const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const DB = args.includes('--db') ? args[args.indexOf('--db') + 1]! : 'sqlite';
if (DB !== 'sqlite' && DB !== 'postgres') {
  console.error(`--db ${DB}: use sqlite or postgres.`);
  process.exit(2);
}
const USERS = arg('users', 100_000);
const OPS = arg('ops', 2_000);
const PAGES = arg('pages', 200);
const ROUNDS = arg('rounds', 1);
/** Callers at once in the concurrent create and PATCH runs (PostgreSQL). */
const CONCURRENCY = arg('concurrency', 16);
/** Connections in each system's pool (PostgreSQL). */
const POOL = 10;
const SERVER = process.env['JIT_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE_PREFIX = process.env['JIT_BENCH_DATABASE_PREFIX'] ?? 'jit_bench';
/** Set by the parent for each child: the round, and the database of the system it runs. */
const ROUND = arg('round', 0);
const DATABASE = args.includes('--database') ? args[args.indexOf('--database') + 1]! : null;
/** Seconds a system may spend filling its directory; a slower peer is measured at the size it reached. */
const FILL_BUDGET = arg('fill-budget', 900);
const SMALL = 1_000;
const WARMUP = 200;
const LOOKUP_WARMUP = 5_000;

// --dir: where the SQLite file goes (a fresh directory per run keeps runs apart).
const baseDir = args.includes('--dir') ? args[args.indexOf('--dir') + 1]! : join(here, 'tmp');
// A file (SQLite) per round: every round starts from empty tables.
const dir = ROUNDS > 1 ? join(baseDir, `round${ROUND + 1}`) : baseDir;
mkdirSync(dir, { recursive: true });
const file = join(dir, 'bench.db');
/** The PostgreSQL URL of the database a system runs on. */
const postgresUrl = (key: string) =>
  `${SERVER}/${DATABASE ?? `${DATABASE_PREFIX}_scim_${key.replace(/\W/g, '_')}_${ROUND + 1}`}`;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1]!.split(',') : null;

/** What each system exposes to the benchmark. */
interface System {
  name: string;
  /** The durability settings the system's connections run with, as the database reports them. */
  settings(): Promise<string>;
  create(i: number): Promise<string>;
  lookup(userName: string): Promise<number>;
  list(startIndex: number, count: number): Promise<number>;
  patch(id: string, i: number): Promise<void>;
  close(): Promise<void>;
}

const userName = (i: number) => `user${i}@bench.test`;
const userBody = (i: number) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: userName(i),
  externalId: `ext-${i}`,
  active: true,
  name: { givenName: `Given${i}`, familyName: `Family${i}` },
  displayName: `User ${i}`,
  emails: [{ value: userName(i), type: 'work', primary: true }],
});
const patchBody = (i: number) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
  Operations: [
    { op: 'replace', path: 'displayName', value: `Renamed ${i}` },
    { op: 'replace', path: 'title', value: `Title ${i}` },
  ],
});

function expectStatus(system: string, what: string, status: number, ok: number[]): void {
  if (!ok.includes(status)) throw new Error(`${system}: ${what} answered ${status}`);
}

/** What SQLite's connection runs with: its journal mode and `synchronous` (1 NORMAL, 2 FULL). */
async function sqliteSettings(query: (sql: string) => Promise<unknown[]>): Promise<string> {
  const [journal] = (await query('PRAGMA journal_mode')) as { journal_mode: string }[];
  const [sync] = (await query('PRAGMA synchronous')) as { synchronous: number }[];
  const names = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
  return `journal_mode=${journal?.journal_mode}, synchronous=${names[sync?.synchronous ?? -1] ?? sync?.synchronous}`;
}

/** What a PostgreSQL session on the system's database runs with. */
async function postgresSettings(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT current_setting('synchronous_commit') AS s`);
    return `synchronous_commit=${rows[0].s}, pool ${POOL}`;
  } finally {
    await client.end();
  }
}

// ---- jit-scim on TypeORM (SQLite or PostgreSQL) ----

async function jitScim(): Promise<System> {
  const { createJitDataSource, migrate, TypeormDirectoryStore } = await import('@jit-sso/typeorm');
  const { createDirectory, createScimService, issueDirectoryToken } = await import('@jit-sso/scim');
  const url = DB === 'postgres' ? postgresUrl('jit-scim') : `sqlite:${file}`;
  const dataSource = await createJitDataSource(url);
  await migrate(dataSource);
  const store = new TypeormDirectoryStore(dataSource);
  const directory = await createDirectory(store, { tenantId: 'bench' });
  const { token } = await issueDirectoryToken(store, directory.id);
  const service = createScimService({ store, baseUrl: 'https://app.example.test/scim/v2' });
  const headers = { authorization: `Bearer ${token}` };
  const call = (method: string, path: string, body?: unknown, query?: URLSearchParams) =>
    service.handle({ method, path, headers, body, ...(query ? { query } : {}) });
  return {
    name: `@jit-sso/scim (TypeORM, ${DB === 'postgres' ? 'PostgreSQL' : 'SQLite'})`,
    settings: () =>
      DB === 'postgres'
        ? postgresSettings(url)
        : sqliteSettings((sql) => dataSource.query(sql) as Promise<unknown[]>),
    async create(i) {
      const res = await call('POST', '/Users', userBody(i));
      expectStatus(this.name, 'POST', res.status, [201]);
      return (res.body as { id: string }).id;
    },
    async lookup(name) {
      const res = await call(
        'GET',
        '/Users',
        undefined,
        new URLSearchParams({ filter: `userName eq "${name}"` }),
      );
      expectStatus(this.name, 'lookup', res.status, [200]);
      return (res.body as { totalResults: number }).totalResults;
    },
    async list(startIndex, count) {
      const res = await call(
        'GET',
        '/Users',
        undefined,
        new URLSearchParams({ startIndex: String(startIndex), count: String(count) }),
      );
      expectStatus(this.name, 'list', res.status, [200]);
      return (res.body as { Resources: unknown[] }).Resources.length;
    },
    async patch(id, i) {
      const res = await call('PATCH', `/Users/${id}`, patchBody(i));
      expectStatus(this.name, 'PATCH', res.status, [200, 204]);
    },
    close: () => dataSource.destroy(),
  } satisfies System;
}

// ---- BoxyHQ Jackson directory sync ----

async function jackson(): Promise<System> {
  // Jackson's SQLite connection with the pragmas the other systems run with: its TypeORM (0.3, its
  // own copy) opens the file, so the options are added as its DataSource initialises.
  const jacksonRequire = createRequire(require.resolve('@boxyhq/saml-jackson'));
  const { DataSource } = jacksonRequire('typeorm');
  type JacksonDataSource = { options: Record<string, unknown>; query(sql: string): Promise<unknown[]> };
  const opened: JacksonDataSource[] = [];
  const initialize = DataSource.prototype.initialize;
  DataSource.prototype.initialize = function (this: JacksonDataSource) {
    opened.push(this);
    if (this.options['type'] === 'better-sqlite3') {
      Object.assign(this.options, {
        enableWAL: true,
        prepareDatabase: (db: { pragma(sql: string): unknown }) => db.pragma('synchronous = NORMAL'),
      });
    }
    return initialize.call(this);
  };
  const jacksonModule = require('@boxyhq/saml-jackson');
  const controllers = jacksonModule.default ?? jacksonModule;
  const quiet = () => undefined;
  const url = postgresUrl('jackson');
  const jack = await controllers({
    externalUrl: 'https://app.example.test',
    samlPath: '/api/oauth/saml',
    samlAudience: 'https://saml.boxyhq.com',
    db:
      DB === 'postgres'
        ? { engine: 'sql', type: 'postgres', url: `${url}?pool_max_conns=${POOL}`, pageLimit: 100 }
        : { engine: 'sql', type: 'sqlite', url: file, pageLimit: 100 },
    noAnalytics: true,
    openid: {},
    // Jackson logs a line for every write ("Webhook not configured ..."): no system here logs.
    logger: { info: quiet, warn: quiet, error: quiet },
  });
  const dsync = jack.directorySyncController;
  const { data: directory, error } = await dsync.directories.create({
    name: 'bench',
    tenant: 'bench',
    product: 'bench',
    type: 'generic-scim-v2',
  });
  if (error) throw new Error(`Jackson: ${error.message}`);
  const secret = directory.scim.secret;
  const request = (method: string, body: unknown, resourceId?: string, query: Record<string, unknown> = {}) =>
    dsync.requests.handle({
      method,
      body,
      directoryId: directory.id,
      resourceType: 'users',
      resourceId,
      apiSecret: secret,
      query,
    });
  return {
    name: `BoxyHQ Jackson directory sync (${DB === 'postgres' ? 'PostgreSQL' : 'SQLite'})`,
    settings: () =>
      DB === 'postgres' ? postgresSettings(url) : sqliteSettings((sql) => opened[0]!.query(sql)),
    async create(i) {
      const res = await request('POST', userBody(i));
      expectStatus(this.name, 'POST', res.status, [201]);
      return res.data.id;
    },
    async lookup(name) {
      const res = await request('GET', undefined, undefined, {
        filter: `userName eq "${name}"`,
        startIndex: 1,
        count: 1,
      });
      expectStatus(this.name, 'lookup', res.status, [200]);
      return res.data.totalResults;
    },
    async list(startIndex, count) {
      const res = await request('GET', undefined, undefined, { startIndex, count });
      expectStatus(this.name, 'list', res.status, [200]);
      return res.data.Resources.length;
    },
    async patch(id, i) {
      const res = await request('PATCH', patchBody(i), id);
      expectStatus(this.name, 'PATCH', res.status, [200, 204]);
    },
    close: () => jack.close?.() ?? Promise.resolve(),
  } satisfies System;
}

// ---- scimmy (+ scimmy-routers' resource calls) on better-sqlite3 ----

async function scimmy(): Promise<System> {
  const SCIMMY = require('scimmy').default ?? require('scimmy');
  require('scimmy-routers'); // what a scimmy server mounts; the benchmark calls the resource methods it calls
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    `CREATE TABLE IF NOT EXISTS scimmy_users (id TEXT PRIMARY KEY, user_name TEXT NOT NULL UNIQUE COLLATE NOCASE, data TEXT NOT NULL, created INTEGER NOT NULL)`,
  );
  const insert = db.prepare('INSERT INTO scimmy_users (id, user_name, data, created) VALUES (?, ?, ?, ?)');
  const update = db.prepare('UPDATE scimmy_users SET user_name = ?, data = ? WHERE id = ?');
  const byId = db.prepare('SELECT data FROM scimmy_users WHERE id = ?');
  const byName = db.prepare('SELECT data FROM scimmy_users WHERE user_name = ?');
  const page = db.prepare('SELECT data FROM scimmy_users ORDER BY id LIMIT ? OFFSET ?');
  const count = db.prepare('SELECT COUNT(*) AS n FROM scimmy_users');
  const all = db.prepare('SELECT data FROM scimmy_users');
  let next = 0;
  SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress((resource: any, instance: any) => {
      const now = new Date().toISOString();
      if (resource.id) {
        const current = byId.get(resource.id);
        if (!current) throw new SCIMMY.Types.Error(404, null, 'not found');
        const previous = JSON.parse(current.data);
        const data = { ...instance, id: resource.id, meta: { ...previous.meta, lastModified: now } };
        update.run(data.userName, JSON.stringify(data), resource.id);
        return data;
      }
      const id = `u${(next++).toString(36).padStart(8, '0')}`;
      const data = { ...instance, id, meta: { created: now, lastModified: now } };
      try {
        insert.run(id, data.userName, JSON.stringify(data), Date.now());
      } catch {
        throw new SCIMMY.Types.Error(409, 'uniqueness', 'userName taken');
      }
      return data;
    })
    .egress((resource: any) => {
      if (resource.id) {
        const row = byId.get(resource.id);
        if (!row) throw new SCIMMY.Types.Error(404, null, 'not found');
        return JSON.parse(row.data);
      }
      const expressions = resource.filter ? [...resource.filter] : [];
      const only = expressions.length === 1 ? expressions[0] : null;
      const keys = only ? Object.keys(only) : [];
      // The indexed path for `userName eq`; anything else is filtered by scimmy in memory.
      if (keys.length === 1 && keys[0]!.toLowerCase() === 'username' && only[keys[0]!][0] === 'eq') {
        const row = byName.get(only[keys[0]!][1]);
        return row ? [JSON.parse(row.data)] : [];
      }
      if (resource.filter) return resource.filter.match(all.all().map((r: any) => JSON.parse(r.data)));
      // ListResponse slices what egress returns from startIndex when the list is at least that long,
      // so a page near the start is returned with the rows before it; later pages on their own.
      const { startIndex = 1, count: size = 100 } = resource.constraints ?? {};
      resource.constraints = { ...resource.constraints, totalResults: count.get().n };
      const rows = startIndex <= size ? page.all(startIndex - 1 + size, 0) : page.all(size, startIndex - 1);
      return rows.map((r: any) => JSON.parse(r.data));
    })
    .degress(() => undefined);
  return {
    name: 'scimmy + scimmy-routers (better-sqlite3)',
    settings: async () => sqliteSettings(async (sql) => db.prepare(sql).all()),
    async create(i) {
      const res = await new SCIMMY.Resources.User().write(userBody(i));
      return res.id;
    },
    async lookup(name) {
      const res = await new SCIMMY.Resources.User({ filter: `userName eq "${name}"` }).read();
      return res.totalResults;
    },
    async list(startIndex, count) {
      const res = await new SCIMMY.Resources.User({ startIndex, count }).read();
      return res.Resources.length;
    },
    async patch(id, i) {
      await new SCIMMY.Resources.User(id).patch(patchBody(i));
    },
    close: async () => db.close(),
  } satisfies System;
}

// ---- the floor: jit-scim's statements, written by hand on the raw driver ----

/**
 * The statements jit-scim runs for each operation (same schema from the package's migrations, same
 * pragmas, same transactions, the same rows written), issued by hand on better-sqlite3's prepared
 * statements with no SCIM layer: no parsing, validation, PATCH evaluation, token hashing or
 * response rendering. What jit-scim costs above this is its own code; what this costs is the price
 * of the rows the issue asks for (the tenant user, the resource and its filter index rows, the
 * directory's count and the audit event, in one transaction). Its own file: its tables carry the
 * same names as jit-scim's.
 */
async function floor(): Promise<System> {
  const { createHash } = await import('node:crypto');
  // jit-scim's ids: time-ordered (UUIDv7) for the user and the audit event.
  const { uuidv7 } = await import('@jit-sso/core');
  const { createJitDataSource, migrate, TypeormDirectoryStore } = await import('@jit-sso/typeorm');
  const { createDirectory, issueDirectoryToken } = await import('@jit-sso/scim');
  const floorFile = join(dir, 'floor.db');
  for (const suffix of ['', '-wal', '-shm']) rmSync(floorFile + suffix, { force: true });
  const dataSource = await createJitDataSource(`sqlite:${floorFile}`);
  await migrate(dataSource);
  const store = new TypeormDirectoryStore(dataSource);
  const directory = await createDirectory(store, { tenantId: 'bench' });
  const { token } = await issueDirectoryToken(store, directory.id);
  const hash = createHash('sha256').update(token).digest('hex');
  const db = (dataSource.driver as unknown as { databaseConnection: any }).databaseConnection;
  const userCols = `u."id", u."tenant_id", u."email", u."status", u."source", u."attributes", u."roles", u."external_id", u."created_at", u."updated_at", u."last_login_at", u."deactivated_at"`;
  const resourceCols = `"id", "directory_id", "type", "name", "external_id", "data", "version", "created_at", "updated_at"`;
  const listed = `r."id", r."directory_id", r."type", r."name", r."external_id", r."data", r."version", r."created_at", r."updated_at", u."status" AS "user_status" FROM "jit_scim_resources" r JOIN "jit_users" u ON u."id" = r."id"`;
  const page = (direction: string) =>
    `SELECT r."id" FROM "jit_scim_resources" r WHERE r."directory_id" = ? AND r."type" = 'User' ORDER BY r."id"${direction} LIMIT CAST(? AS INTEGER) OFFSET CAST(? AS INTEGER)`;
  /** A statement for each number of rows or parameters, prepared the first time it is needed. */
  const byCount = (sql: (n: number) => string) => {
    const prepared = new Map<number, any>();
    return (n: number) => {
      let stmt = prepared.get(n);
      if (!stmt) prepared.set(n, (stmt = db.prepare(sql(n))));
      return stmt;
    };
  };
  const st = {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    token: db.prepare(
      `SELECT t."id", t."directory_id", t."revoked_at", d."tenant_id" FROM "jit_scim_tokens" t JOIN "jit_scim_directories" d ON d."id" = t."directory_id" WHERE t."hash" = ?`,
    ),
    resourceByName: db.prepare(
      `SELECT ${resourceCols} FROM "jit_scim_resources" WHERE "directory_id" = ? AND "user_name_key" = ?`,
    ),
    resourceById: db.prepare(
      `SELECT ${resourceCols} FROM "jit_scim_resources" WHERE "id" = ? AND "directory_id" = ? AND "type" = ?`,
    ),
    userByEmail: db.prepare(
      `SELECT ${userCols} FROM "jit_users" u WHERE u."tenant_id" = ? AND u."email" = ?`,
    ),
    userById: db.prepare(`SELECT ${userCols} FROM "jit_users" u WHERE u."id" = ?`),
    insertUser: db.prepare(
      `INSERT INTO "jit_users" ("id", "tenant_id", "email", "status", "source", "attributes", "roles", "external_id", "created_at", "updated_at", "last_login_at", "deactivated_at") VALUES (?, ?, ?, 'active', 'scim', ?, '[]', ?, ?, ?, NULL, NULL)`,
    ),
    updateUser: db.prepare(`UPDATE "jit_users" SET "attributes" = ?, "updated_at" = ? WHERE "id" = ?`),
    audit: db.prepare(
      `INSERT INTO "jit_audit_events" ("id", "at", "tenant_id", "actor", "action", "connection_id", "subject", "user_id", "reason", "changes") VALUES (?, ?, ?, 'scim', ?, NULL, NULL, ?, 'scim', ?)`,
    ),
    insertResource: db.prepare(
      `INSERT INTO "jit_scim_resources" ("id", "directory_id", "type", "name", "external_id", "data", "version", "created_at", "updated_at", "name_key", "user_name_key") VALUES (?, ?, 'User', ?, ?, ?, 1, ?, ?, ?, ?)`,
    ),
    updateResource: db.prepare(
      `UPDATE "jit_scim_resources" SET "data" = ?, "version" = ?, "updated_at" = ? WHERE "id" = ?`,
    ),
    // The audit event's mark for the outbox (a user's lifecycle event), as jit-scim's store writes it.
    pending: db.prepare(`INSERT INTO "jit_outbox_pending" ("audit_id") VALUES (?)`),
    deleteValues: db.prepare(`DELETE FROM "jit_scim_values" WHERE "resource_id" = ? AND "attr" IN (?, ?)`),
    count: db.prepare(
      `INSERT INTO "jit_scim_counts" AS c ("directory_id", "type", "slot", "n") VALUES (?, 'User', 0, 1) ON CONFLICT ("directory_id", "type", "slot") DO UPDATE SET "n" = c."n" + 1`,
    ),
    lookup: db.prepare(
      `SELECT ${listed} WHERE r."directory_id" = ? AND r."type" = 'User' AND r."user_name_key" = ? LIMIT CAST(? AS INTEGER)`,
    ),
    readCount: db.prepare(
      `SELECT COALESCE(SUM(c."n"), 0) AS "n" FROM "jit_scim_counts" c WHERE c."directory_id" = ? AND c."type" = 'User'`,
    ),
    pageUp: db.prepare(page('')),
    pageDown: db.prepare(page(' DESC')),
  };
  /** One multi-row INSERT of filter values, as the store batches them. */
  const valuesInsert = byCount(
    (n) =>
      `INSERT INTO "jit_scim_values" ("resource_id", "directory_id", "attr", "attr_top", "elem", "kind", "prefix", "text", "num") VALUES ${Array(n).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
  );
  const insertValues = (rows: unknown[][]) => valuesInsert(rows.length).run(...rows.flat());
  const rowsByIds = byCount(
    (n) => `SELECT ${listed} WHERE r."id" IN (${Array(n).fill('?').join(', ')}) ORDER BY r."id"`,
  );
  const authenticate = () => {
    const row = st.token.get(hash);
    if (!row || row.revoked_at !== null) throw new Error('floor: token refused');
    return row as { directory_id: string; tenant_id: string };
  };
  const text = (resourceId: string, attr: string, top: string, elem: number, value: string) => {
    const lower = value.toLowerCase();
    return [resourceId, directory.id, attr, top, elem, 's', lower.slice(0, 191), lower, null];
  };
  const transaction = <T>(work: () => T): T => {
    st.begin.run();
    try {
      const result = work();
      st.commit.run();
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  };
  return {
    name: 'floor: the same statements on raw better-sqlite3',
    settings: async () => sqliteSettings(async (sql) => db.prepare(sql).all()),
    async create(i) {
      const body = userBody(i);
      const auth = authenticate();
      return transaction(() => {
        const key = body.userName.toLowerCase();
        if (st.resourceByName.get(auth.directory_id, key)) throw new Error('floor: userName taken');
        if (st.userByEmail.get(auth.tenant_id, key)) throw new Error('floor: email taken');
        const now = new Date();
        const id = uuidv7(now);
        const at = now.getTime();
        const attributes = {
          firstName: body.name.givenName,
          lastName: body.name.familyName,
          displayName: body.displayName,
        };
        st.insertUser.run(id, auth.tenant_id, key, JSON.stringify(attributes), body.externalId, at, at);
        const auditId = uuidv7(now);
        st.audit.run(
          auditId,
          at,
          auth.tenant_id,
          'created',
          id,
          JSON.stringify([
            { field: 'email', from: null, to: key },
            ...Object.entries(attributes).map(([field, to]) => ({ field, from: null, to })),
          ]),
        );
        st.pending.run(auditId);
        const {
          schemas: _schemas,
          userName: _userName,
          externalId: _externalId,
          active: _active,
          ...data
        } = body;
        st.insertResource.run(
          id,
          auth.directory_id,
          body.userName,
          body.externalId,
          JSON.stringify(data),
          at,
          at,
          key,
          key,
        );
        insertValues([
          text(id, 'name.givenname', 'name', -1, body.name.givenName),
          text(id, 'name.familyname', 'name', -1, body.name.familyName),
          text(id, 'displayname', 'displayname', -1, body.displayName),
          text(id, 'emails.value', 'emails', 0, body.emails[0]!.value),
          text(id, 'emails.type', 'emails', 0, body.emails[0]!.type),
          [id, directory.id, 'emails.primary', 'emails', 0, 'b', null, null, 1],
        ]);
        st.count.run(auth.directory_id);
        return id;
      });
    },
    async lookup(name) {
      const auth = authenticate();
      const rows = st.lookup.all(auth.directory_id, name.toLowerCase(), 200);
      for (const row of rows) JSON.parse(row.data);
      return rows.length;
    },
    async list(startIndex, count) {
      const auth = authenticate();
      const total = st.readCount.get(auth.directory_id).n as number;
      const offset = startIndex - 1;
      const n = Math.min(count, total - offset);
      const reverse = offset > total - offset - n;
      const ids = (reverse ? st.pageDown : st.pageUp)
        .all(auth.directory_id, n, reverse ? total - offset - n : offset)
        .map((row: { id: string }) => row.id);
      const rows = rowsByIds(ids.length).all(...ids);
      for (const row of rows) JSON.parse(row.data);
      return rows.length;
    },
    async patch(id, i) {
      const auth = authenticate();
      transaction(() => {
        const current = st.resourceById.get(id, auth.directory_id, 'User');
        if (!current) throw new Error('floor: no such user');
        const user = st.userById.get(id);
        const data = JSON.parse(current.data);
        const displayName = `Renamed ${i}`;
        const title = `Title ${i}`;
        const before = JSON.parse(user.attributes);
        const attributes = { ...before, displayName };
        const now = new Date();
        const at = now.getTime();
        st.updateUser.run(JSON.stringify(attributes), at, id);
        const auditId = uuidv7(now);
        st.audit.run(
          auditId,
          at,
          auth.tenant_id,
          'updated',
          id,
          JSON.stringify([{ field: 'displayName', from: before.displayName, to: displayName }]),
        );
        st.pending.run(auditId);
        st.updateResource.run(JSON.stringify({ ...data, displayName, title }), current.version + 1, at, id);
        // The attributes whose index rows change (jit-scim diffs the document before and after).
        st.deleteValues.run(id, 'displayname', 'title');
        insertValues([
          text(id, 'displayname', 'displayname', -1, displayName),
          text(id, 'title', 'title', -1, title),
        ]);
      });
    },
    close: () => dataSource.destroy(),
  };
}

/**
 * `--paired` (SQLite): jit-scim and the floor in one process, alternating operation by operation
 * (a jit-scim create, then a floor create, …), so that both meet the same moments of a shared
 * machine's load: their medians' ratio does not move with what else runs between two processes.
 */
async function paired(): Promise<Record<string, unknown>> {
  const a = await jitScim();
  const b = await floor();
  const idsA: string[] = [];
  const idsB: string[] = [];
  const timed = async (op: () => Promise<unknown>, into: number[]) => {
    const t = performance.now();
    await op();
    into.push(performance.now() - t);
  };
  const lat = {
    createA: [] as number[],
    createB: [] as number[],
    patchA: [] as number[],
    patchB: [] as number[],
  };
  for (let k = 0; k < WARMUP; k++) {
    idsA.push(await a.create(k));
    idsB.push(await b.create(k));
  }
  for (let k = WARMUP; k < SMALL; k++) {
    await timed(async () => idsA.push(await a.create(k)), lat.createA);
    await timed(async () => idsB.push(await b.create(k)), lat.createB);
  }
  for (let k = 0; k < OPS; k++) {
    const at = rnd(idsA.length);
    await timed(() => a.patch(idsA[at]!, k), lat.patchA);
    await timed(() => b.patch(idsB[at]!, k), lat.patchB);
  }
  await a.close();
  await b.close();
  const median = (list: number[]) => [...list].sort((x, y) => x - y)[Math.floor(list.length / 2)]!;
  const row = (x: number[], y: number[]) => ({
    jitScim: Number(median(x).toFixed(3)),
    floor: Number(median(y).toFixed(3)),
    ratio: Number((median(x) / median(y)).toFixed(2)),
  });
  return { create: row(lat.createA, lat.createB), patch: row(lat.patchA, lat.patchB) };
}

// ---- measurement ----

interface Result {
  ops: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Runs `op` n times, or fewer when `budget` seconds run out (at least 10): ops/s stays comparable. */
async function measure(n: number, op: (k: number) => Promise<unknown>, budget = 120): Promise<Result> {
  return measureConcurrent(n, 1, op, budget);
}

/** `measure` with `callers` running the operations at once; ops/s is the count over the wall time. */
async function measureConcurrent(
  n: number,
  callers: number,
  op: (k: number) => Promise<unknown>,
  budget = 120,
): Promise<Result> {
  const latencies: number[] = [];
  const start = performance.now();
  let next = 0;
  const caller = async () => {
    for (;;) {
      const k = next++;
      if (k >= n || (k >= 10 && performance.now() - start > budget * 1000)) return;
      const t = performance.now();
      await op(k);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return {
    ops: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50: pct(0.5),
    p99: pct(0.99),
  };
}

const rnd = (() => {
  let s = 42 + ROUND;
  return (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
})();

async function runSystem(make: () => Promise<System>): Promise<Record<string, Result | string> | string> {
  let system: System;
  try {
    system = await make();
  } catch (error) {
    return `skipped: ${(error as Error).message.split('\n')[0]}`;
  }
  const results: Record<string, Result | string> = {};
  results['settings'] = await system.settings();
  const ids: string[] = [];
  // Every system first runs creates and lookups untimed (WARMUP creates, then LOOKUP_WARMUP lookups),
  // so that the timed runs measure compiled code rather than the JIT warming up (jit-scim's lookup
  // median fell by half between its first 2,000 lookups and the next 18,000).
  console.error(`${system.name}: creating ${WARMUP} users (untimed), then ${SMALL - WARMUP} (timed)`);
  for (let k = 0; k < WARMUP; k++) ids.push(await system.create(k));
  results['create'] = await measure(SMALL - WARMUP, async (k) => ids.push(await system.create(WARMUP + k)));
  await analyze();
  for (let k = 0; k < LOOKUP_WARMUP; k++) await system.lookup(userName(rnd(SMALL)));
  results['lookup@1k'] = await measure(OPS, async () => {
    if ((await system.lookup(userName(rnd(SMALL)))) !== 1) throw new Error(`${system.name}: lookup missed`);
  });
  console.error(`${system.name}: filling to ${USERS} users`);
  const fillStart = performance.now();
  let size = SMALL;
  // On PostgreSQL the fill runs from as many callers as the pool has connections.
  const fillCallers = DB === 'postgres' ? POOL : 1;
  while (size < USERS && performance.now() - fillStart < FILL_BUDGET * 1000) {
    const batch = Math.min(USERS - size, fillCallers * 100);
    const from = size;
    await measureConcurrent(batch, fillCallers, async (k) => ids.push(await system.create(from + k)), 1e9);
    size += batch;
    if (size % 20_000 === 0)
      console.error(`  ${size} (${((performance.now() - fillStart) / 1000).toFixed(0)} s)`);
  }
  const seconds = (performance.now() - fillStart) / 1000;
  results['fill'] =
    `${size - SMALL} users in ${seconds.toFixed(1)} s (${((size - SMALL) / seconds).toFixed(0)}/s, ${fillCallers} at once)`;
  results['users'] = String(size);
  await analyze();
  results['lookup@N'] = await measure(OPS, async () => {
    if ((await system.lookup(userName(rnd(size)))) !== 1) throw new Error(`${system.name}: lookup missed`);
  });
  results['list'] = await measure(PAGES, async () => {
    const n = await system.list(1 + rnd(size - 100), 100);
    if (n !== 100) throw new Error(`${system.name}: page of ${n}`);
  });
  results['patch'] = await measure(OPS, (k) => system.patch(ids[rnd(ids.length)]!, k));
  if (DB === 'postgres') {
    const base = size;
    const waits = await sampleWaits(postgresUrl(only![0]!));
    results[`create x${CONCURRENCY}`] = await measureConcurrent(OPS, CONCURRENCY, async (k) =>
      ids.push(await system.create(base + k)),
    );
    results[`create x${CONCURRENCY} waits`] = await waits.stop();
    results[`patch x${CONCURRENCY}`] = await measureConcurrent(OPS, CONCURRENCY, (k) =>
      system.patch(ids[rnd(ids.length)]!, OPS + k),
    );
  }
  await system.close();
  return results;
}

/**
 * On PostgreSQL, the statistics autovacuum would have gathered by now on a server with its defaults
 * (it analyses a table once 50 rows and 10% of it have changed): the shared server this runs on may
 * have autovacuum off, and without statistics the planner rates every index of a freshly filled
 * table alike (their sizes are still those of the empty table the migrations indexed). Every system
 * gets it at the same points: before the lookups at 1,000 users and after the fill.
 */
async function analyze(): Promise<void> {
  if (DB !== 'postgres') return;
  const client = new pg.Client({ connectionString: postgresUrl(only![0]!) });
  await client.connect();
  try {
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

/**
 * Samples, every 5 ms while a run lasts, what the system's connections to its database wait for
 * (`pg_stat_activity`): on a row lock (`Lock`), on writing and flushing the WAL at commit (`IO`,
 * `LWLock` on the WAL), on the client. `stop` returns the mean number of connections in each state.
 */
async function sampleWaits(url: string): Promise<{ stop(): Promise<string> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const database = new URL(url).pathname.slice(1);
  const totals = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'running') AS type, count(*)::int AS n FROM pg_stat_activity ` +
          `WHERE datname = $1 AND pid <> pg_backend_pid() AND state <> 'idle' GROUP BY 1`,
        [database],
      );
      samples++;
      for (const row of rows) totals.set(row.type, (totals.get(row.type) ?? 0) + row.n);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      const mean = [...totals]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([type, n]) => `${type} ${(n / Math.max(samples, 1)).toFixed(2)}`);
      return `connections busy, on average over ${samples} samples: ${mean.join(', ') || 'none'}`;
    },
  };
}

// Progress goes to stderr; nothing a system prints reaches the report.
console.log = () => undefined;
console.info = () => undefined;
console.warn = () => undefined;

const systems: Array<[string, () => Promise<System>]> =
  DB === 'postgres'
    ? [
        ['jit-scim', jitScim],
        ['jackson', jackson],
      ]
    : [
        ['jit-scim', jitScim],
        ['jackson', jackson],
        ['scimmy', scimmy],
        ['floor', floor],
      ];

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

const load = () => {
  try {
    return execSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};

if (args.includes('--paired')) {
  if (DB !== 'sqlite') {
    console.error('--paired compares jit-scim with the floor, which runs on SQLite only.');
    process.exit(2);
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  const loadBefore = load();
  const result = await paired();
  process.stdout.write(`${JSON.stringify({ loadBefore, loadAfter: load(), ...result }, null, 2)}\n`);
  process.exit(0);
}

if (only) {
  // One system per process: Jackson's TypeORM 0.3 and this repository's TypeORM 1.1 share a global
  // metadata store and cannot be initialised in one process.
  const report: Record<string, unknown> = {};
  for (const [key, make] of systems) {
    if (!only.includes(key)) continue;
    let created: string | null = null;
    if (DB === 'postgres' && !DATABASE) {
      // Run on its own (not from the parent below): the database is made and dropped here.
      created = postgresUrl(key).slice(SERVER.length + 1);
      await adminQuery(`DROP DATABASE IF EXISTS "${created}" WITH (FORCE)`);
      await adminQuery(`CREATE DATABASE "${created}"`);
      await adminQuery(`ALTER DATABASE "${created}" SET synchronous_commit = on`);
    }
    try {
      report[key] = await runSystem(make);
    } finally {
      if (created) await adminQuery(`DROP DATABASE IF EXISTS "${created}" WITH (FORCE)`);
    }
    console.error(key, JSON.stringify(report[key]));
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(0);
}

const report: Record<string, unknown> = {
  node: process.version,
  jitScimFrom: fromSource ? 'sources (tsx)' : 'dist',
  database: DB === 'postgres' ? `PostgreSQL at ${SERVER}` : `SQLite files under ${baseDir}`,
  users: USERS,
  ops: OPS,
  pages: PAGES,
  concurrency: DB === 'postgres' ? CONCURRENCY : 1,
  at: new Date().toISOString(),
  rounds: [] as unknown[],
};
const forward = args.filter(
  (a, i) => !['--round', '--database'].includes(args[i - 1] ?? '') && !['--round', '--database'].includes(a),
);
for (let round = 0; round < ROUNDS; round++) {
  // The order rotates: round 2 starts with the second system, and so on.
  const order = systems.map((_, i) => systems[(i + round) % systems.length]![0]);
  const results: Record<string, unknown> = {};
  const loadBefore = load();
  if (DB === 'sqlite') {
    const roundFile = ROUNDS > 1 ? join(baseDir, `round${round + 1}`, 'bench.db') : file;
    for (const suffix of ['', '-wal', '-shm']) rmSync(roundFile + suffix, { force: true });
  }
  for (const key of order) {
    let database: string | null = null;
    if (DB === 'postgres') {
      database = `${DATABASE_PREFIX}_scim_${key.replace(/\W/g, '_')}_${round + 1}`;
      await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await adminQuery(`CREATE DATABASE "${database}"`);
      await adminQuery(`ALTER DATABASE "${database}" SET synchronous_commit = on`);
    }
    console.error(`round ${round + 1}: ${key} (load: ${load()})`);
    const child = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        process.argv[1]!,
        ...forward,
        ...['--only', key, '--round', String(round)],
        ...(database ? ['--database', database] : []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    try {
      results[key] = (JSON.parse(child.stdout) as Record<string, unknown>)[key];
    } catch {
      results[key] = `skipped: the ${key} run failed (exit ${child.status})`;
    }
    if (database) await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  }
  (report['rounds'] as unknown[]).push({ round: round + 1, order, loadBefore, loadAfter: load(), results });
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`\n${tables(report)}\n`);
process.exit(0);

/** Each round as a Markdown table, with jit-scim's ratios to Jackson and (on SQLite) to the floor. */
function tables(report: Record<string, unknown>): string {
  const out: string[] = [];
  const fmt = (x: number, d = 0) =>
    x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  for (const round of report['rounds'] as {
    round: number;
    order: string[];
    loadBefore: string;
    loadAfter: string;
    results: Record<string, Record<string, Result | string> | string>;
  }[]) {
    const keys = systems.map(([key]) => key).filter((key) => typeof round.results[key] === 'object');
    out.push(
      `### ${DB === 'postgres' ? 'PostgreSQL' : 'SQLite'}, round ${round.round} (order: ${round.order.join(', ')})`,
    );
    out.push('');
    out.push(`Load before: \`${round.loadBefore}\`; after: \`${round.loadAfter}\`.`);
    out.push('');
    for (const key of keys) {
      const r = round.results[key] as Record<string, Result | string>;
      out.push(`- ${key}: ${r['settings']}; fill ${r['fill']}`);
      for (const [name, value] of Object.entries(r))
        if (name.endsWith(' waits')) out.push(`  - ${name.replace(/ waits$/, '')}: ${String(value)}`);
    }
    out.push('');
    const ops = Object.keys(round.results[keys[0]!] as object).filter(
      (op) => typeof (round.results[keys[0]!] as Record<string, unknown>)[op] === 'object',
    );
    const ratios = [
      ...(keys.includes('jackson') ? ['jackson'] : []),
      ...(keys.includes('floor') ? ['floor'] : []),
    ];
    const label = (key: string) =>
      key === 'floor'
        ? "jit-scim's cost over the floor's (p50, time per op)"
        : `jit-scim vs ${key} (ops/s, p50)`;
    out.push(`| operation | ${keys.join(' | ')} | ${ratios.map(label).join(' | ')} |`);
    out.push(`| --- | ${keys.map(() => '---').join(' | ')} | ${ratios.map(() => '---').join(' | ')} |`);
    for (const op of ops) {
      const cells = keys.map((key) => {
        const f = (round.results[key] as Record<string, Result>)[op];
        return f ? `${fmt(f.perSecond)}/s (p50 ${fmt(f.p50, 3)} ms, p99 ${fmt(f.p99, 1)} ms)` : '';
      });
      const jit = (round.results['jit-scim'] as Record<string, Result> | undefined)?.[op];
      const ratioCells = ratios.map((key) => {
        const other = (round.results[key] as Record<string, Result>)[op];
        if (!jit || !other) return '';
        // Against the floor: how many times its median and its time per operation jit-scim takes.
        if (key === 'floor')
          return `${fmt(jit.p50 / other.p50, 2)}x, ${fmt(other.perSecond / jit.perSecond, 2)}x`;
        // Against a peer, ahead is > 1: ops/s over theirs, and their median over ours.
        return `${fmt(jit.perSecond / other.perSecond, 2)}x, ${fmt(other.p50 / jit.p50, 2)}x`;
      });
      out.push(`| ${op} | ${cells.join(' | ')} | ${ratioCells.join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
