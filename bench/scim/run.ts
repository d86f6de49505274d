/**
 * SCIM benchmark: @jit-sso/scim on @jit-sso/typeorm (SQLite) against BoxyHQ Jackson's directory sync
 * and a scimmy server, in one run, on one machine and one SQLite file (each system in its own tables).
 *
 *   npm install --prefix bench/scim          # the peers, outside the workspaces
 *   NX_DAEMON=false npx nx run-many -t build -p @jit-sso/scim @jit-sso/typeorm
 *   node_modules/.bin/tsx bench/scim/run.ts [--users 100000] [--ops 2000]
 *
 * jit-scim runs from its build (`dist`, what the packages publish), as the peers run from theirs;
 * with `--conditions=source` it runs from the TypeScript sources through tsx instead.
 *
 * Every system is driven in process at its request-handling API (no HTTP): `service.handle` for
 * jit-scim, `directorySyncController.requests.handle` for Jackson (what its API routes call), and
 * the `SCIMMY.Resources.User` methods that scimmy-routers call. Operations, per system:
 * create (POST /Users), lookup (`userName eq` at 1,000 and at N users), list (pages of 100 at random
 * offsets), patch (replace displayName and title). Timed sequentially; ops/s and p50/p99.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const here = import.meta.dirname;
const fromSource = process.execArgv.some((a) => a.includes('conditions=source'));
if (!fromSource && !existsSync(join(here, '..', '..', 'packages', 'jit-scim', 'dist', 'index.js'))) {
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
const USERS = arg('users', 100_000);
const OPS = arg('ops', 2_000);
const PAGES = arg('pages', 200);
/** Seconds a system may spend filling its directory; a slower peer is measured at the size it reached. */
const FILL_BUDGET = arg('fill-budget', 900);
const SMALL = 1_000;
const WARMUP = 200;
const LOOKUP_WARMUP = 5_000;

// --dir: where the SQLite file goes (a fresh directory per run keeps runs apart).
const dir = args.includes('--dir') ? args[args.indexOf('--dir') + 1]! : join(here, 'tmp');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'bench.db');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1]!.split(',') : null;

/** What each system exposes to the benchmark. */
interface System {
  name: string;
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

// ---- jit-scim on TypeORM/SQLite ----

async function jitScim(): Promise<System> {
  const { createJitDataSource, migrate, TypeormDirectoryStore } = await import('@jit-sso/typeorm');
  const { createDirectory, createScimService, issueDirectoryToken } = await import('@jit-sso/scim');
  const dataSource = await createJitDataSource(`sqlite:${file}`);
  await migrate(dataSource);
  const store = new TypeormDirectoryStore(dataSource);
  const directory = await createDirectory(store, { tenantId: 'bench' });
  const { token } = await issueDirectoryToken(store, directory.id);
  const service = createScimService({ store, baseUrl: 'https://app.example.test/scim/v2' });
  const headers = { authorization: `Bearer ${token}` };
  const call = (method: string, path: string, body?: unknown, query?: URLSearchParams) =>
    service.handle({ method, path, headers, body, ...(query ? { query } : {}) });
  return {
    name: '@jit-sso/scim (TypeORM, SQLite)',
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
  const jacksonModule = require('@boxyhq/saml-jackson');
  const controllers = jacksonModule.default ?? jacksonModule;
  const jack = await controllers({
    externalUrl: 'https://app.example.test',
    samlPath: '/api/oauth/saml',
    samlAudience: 'https://saml.boxyhq.com',
    db: { engine: 'sql', type: 'sqlite', url: file, pageLimit: 100 },
    noAnalytics: true,
    openid: {},
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
    name: 'BoxyHQ Jackson directory sync (SQLite)',
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
  const { createHash, randomUUID } = await import('node:crypto');
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
    valuesOf: db.prepare(
      `SELECT "id", "attr", "elem", "kind", "text", "num" FROM "jit_scim_values" WHERE "resource_id" = ?`,
    ),
    deleteValue: db.prepare(`DELETE FROM "jit_scim_values" WHERE "id" = ?`),
    count: db.prepare(`UPDATE "jit_scim_directories" SET "user_count" = "user_count" + 1 WHERE "id" = ?`),
    lookup: db.prepare(
      `SELECT ${listed} WHERE r."directory_id" = ? AND r."type" = 'User' AND r."user_name_key" = ? LIMIT CAST(? AS INTEGER)`,
    ),
    readCount: db.prepare(`SELECT "user_count" AS "n" FROM "jit_scim_directories" WHERE "id" = ?`),
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
    async create(i) {
      const body = userBody(i);
      const auth = authenticate();
      return transaction(() => {
        const key = body.userName.toLowerCase();
        if (st.resourceByName.get(auth.directory_id, key)) throw new Error('floor: userName taken');
        if (st.userByEmail.get(auth.tenant_id, key)) throw new Error('floor: email taken');
        const id = randomUUID();
        const at = Date.now();
        const attributes = {
          firstName: body.name.givenName,
          lastName: body.name.familyName,
          displayName: body.displayName,
        };
        st.insertUser.run(id, auth.tenant_id, key, JSON.stringify(attributes), body.externalId, at, at);
        st.audit.run(
          randomUUID(),
          at,
          auth.tenant_id,
          'created',
          id,
          JSON.stringify([{ field: 'email', from: null, to: key }]),
        );
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
        const at = Date.now();
        st.updateUser.run(JSON.stringify(attributes), at, id);
        st.audit.run(
          randomUUID(),
          at,
          auth.tenant_id,
          'updated',
          id,
          JSON.stringify([{ field: 'displayName', from: before.displayName, to: displayName }]),
        );
        st.updateResource.run(JSON.stringify({ ...data, displayName, title }), current.version + 1, at, id);
        const stale = st.valuesOf
          .all(id)
          .filter((row: { attr: string }) => row.attr === 'displayname' || row.attr === 'title');
        for (const row of stale) st.deleteValue.run(row.id);
        insertValues([
          text(id, 'displayname', 'displayname', -1, displayName),
          text(id, 'title', 'title', -1, title),
        ]);
      });
    },
    close: () => dataSource.destroy(),
  };
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
  const latencies: number[] = [];
  const start = performance.now();
  for (let k = 0; k < n; k++) {
    if (k >= 10 && performance.now() - start > budget * 1000) {
      n = k;
      break;
    }
    const t = performance.now();
    await op(k);
    latencies.push(performance.now() - t);
  }
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
  let s = 42;
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
  const ids: string[] = [];
  // Every system first runs creates and lookups untimed (WARMUP creates, then LOOKUP_WARMUP lookups),
  // so that the timed runs measure compiled code rather than the JIT warming up (jit-scim's lookup
  // median fell by half between its first 2,000 lookups and the next 18,000).
  console.error(`${system.name}: creating ${WARMUP} users (untimed), then ${SMALL - WARMUP} (timed)`);
  for (let k = 0; k < WARMUP; k++) ids.push(await system.create(k));
  results['create'] = await measure(SMALL - WARMUP, async (k) => ids.push(await system.create(WARMUP + k)));
  for (let k = 0; k < LOOKUP_WARMUP; k++) await system.lookup(userName(rnd(SMALL)));
  results['lookup@1k'] = await measure(OPS, async () => {
    if ((await system.lookup(userName(rnd(SMALL)))) !== 1) throw new Error(`${system.name}: lookup missed`);
  });
  console.error(`${system.name}: filling to ${USERS} users`);
  const fillStart = performance.now();
  let size = SMALL;
  while (size < USERS && performance.now() - fillStart < FILL_BUDGET * 1000) {
    ids.push(await system.create(size++));
    if (size % 20_000 === 0)
      console.error(`  ${size} (${((performance.now() - fillStart) / 1000).toFixed(0)} s)`);
  }
  const seconds = (performance.now() - fillStart) / 1000;
  results['fill'] =
    `${size - SMALL} users in ${seconds.toFixed(1)} s (${((size - SMALL) / seconds).toFixed(0)}/s)`;
  results['users'] = String(size);
  results['lookup@N'] = await measure(OPS, async () => {
    if ((await system.lookup(userName(rnd(size)))) !== 1) throw new Error(`${system.name}: lookup missed`);
  });
  results['list'] = await measure(PAGES, async () => {
    const n = await system.list(1 + rnd(size - 100), 100);
    if (n !== 100) throw new Error(`${system.name}: page of ${n}`);
  });
  results['patch'] = await measure(OPS, (k) => system.patch(ids[rnd(ids.length)]!, k));
  await system.close();
  return results;
}

// Jackson logs every request it handles ("Webhook not configured ..."); progress goes to stderr.
console.log = () => undefined;
console.info = () => undefined;
console.warn = () => undefined;

const systems: Array<[string, () => Promise<System>]> = [
  ['jit-scim', jitScim],
  ['jackson', jackson],
  ['scimmy', scimmy],
  ['floor', floor],
];
const report: Record<string, unknown> = {
  node: process.version,
  jitScimFrom: fromSource ? 'sources (tsx)' : 'dist',
  users: USERS,
  ops: OPS,
  pages: PAGES,
  file,
  at: new Date().toISOString(),
};
if (only) {
  // One system per process: Jackson's TypeORM 0.3 and this repository's TypeORM 1.1 share a global
  // metadata store and cannot be initialised in one process.
  for (const [key, make] of systems) {
    if (!only.includes(key)) continue;
    report[key] = await runSystem(make);
    console.error(key, JSON.stringify(report[key]));
  }
} else {
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  for (const [key] of systems) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, process.argv[1]!, ...args, '--only', key],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    try {
      report[key] = (JSON.parse(child.stdout) as Record<string, unknown>)[key];
    } catch {
      report[key] = `skipped: the ${key} run failed (exit ${child.status})`;
    }
  }
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
if (existsSync(file)) console.error(`SQLite file: ${file}`);
process.exit(0);
