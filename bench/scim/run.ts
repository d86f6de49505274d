/**
 * SCIM benchmark: @jit-sso/scim on @jit-sso/typeorm (SQLite) against BoxyHQ Jackson's directory sync
 * and a scimmy server, in one run, on one machine and one SQLite file (each system in its own tables).
 *
 *   npm install --prefix bench/scim          # the peers, outside the workspaces
 *   node_modules/.bin/tsx --conditions=source bench/scim/run.ts [--users 100000] [--ops 2000]
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

const dir = join(here, 'tmp');
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
  };
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
  };
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
];
const report: Record<string, unknown> = {
  node: process.version,
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
