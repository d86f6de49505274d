/**
 * Logins per second, p50 and p99 on SQLite and PostgreSQL, side by side in one run:
 *   (a) raw   the driver (better-sqlite3, pg) executing the statements the engine needs: the floor;
 *   (b) orm   a typical hand-written passport verify callback with TypeORM (findOne by email, save if missing);
 *   (c) store @jit-sso/typeorm's TypeormStore through the engine (createProvisioner().provision()).
 * For logins of existing users and first logins, sequentially, and with 32 concurrent logins on PostgreSQL.
 *
 *   npx tsx --conditions=source bench/typeorm/run.ts [--smoke]       (from the repository root)
 *
 * Needs PostgreSQL at JIT_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432, no database);
 * its databases are named JIT_BENCH_DATABASE_PREFIX (default jit_bench) + _store, _raw, _raw1, _orm,
 * and dropped at the end. `--smoke` runs every step at a few dozen logins, to check that it runs.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DataSource, EntitySchema, type Repository } from 'typeorm';
import { createProvisioner, fromOidcClaims, uuidv7, type Provisioner } from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormStore } from '@jit-sso/typeorm';

const SERVER = process.env['JIT_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE_PREFIX = process.env['JIT_BENCH_DATABASE_PREFIX'] ?? 'jit_bench';
const SMOKE = process.argv.includes('--smoke');
/** Logins per step: the planned number, or a few dozen in a smoke run. */
const size = (n: number) => (SMOKE ? Math.min(n, 40) : n);
const POPULATION = size(2000);
const CONNECTION = {
  id: 'bench-oidc',
  tenantId: 'bench',
  protocol: 'oidc' as const,
  issuer: 'https://idp.bench.test',
  jit: { verifiedDomains: ['bench.test'], defaultRoles: ['member'] },
};
const claims = (sub: string) => ({
  iss: CONNECTION.issuer,
  sub,
  email: `${sub}@bench.test`,
  email_verified: true,
  name: `User ${sub}`,
});

// ---- measurement -------------------------------------------------------------------------------

interface Figures {
  ops: number;
  perSecond: number;
  p50: number;
  p99: number;
}

async function measure(
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<Figures> {
  const latencies = new Float64Array(n);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const t = performance.now();
        await op(i);
        latencies[i] = performance.now() - t;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort();
  return {
    ops: n,
    perSecond: n / seconds,
    p50: latencies[Math.floor(n * 0.5)]!,
    p99: latencies[Math.floor(n * 0.99)]!,
  };
}

// ---- the three implementations -----------------------------------------------------------------

interface Login {
  existing(i: number): Promise<unknown>;
  first(i: number): Promise<unknown>;
  close(): Promise<void>;
}

const USER_COLUMNS =
  'u."id" AS "u_id", u."tenant_id" AS "u_tenantId", u."email" AS "u_email", u."status" AS "u_status", u."source" AS "u_source", ' +
  'u."attributes" AS "u_attributes", u."roles" AS "u_roles", u."external_id" AS "u_externalId", u."created_at" AS "u_createdAt", ' +
  'u."updated_at" AS "u_updatedAt", u."last_login_at" AS "u_lastLoginAt", u."deactivated_at" AS "u_deactivatedAt"';
const SQL = {
  findIdentity:
    `SELECT i."id" AS "i_id", i."user_id" AS "i_user_id", ${USER_COLUMNS} FROM "jit_identities" i ` +
    `JOIN "jit_users" u ON u."id" = i."user_id" WHERE i."connection_id" = ? AND i."subject" = ?`,
  findUserByEmail: `SELECT ${USER_COLUMNS} FROM "jit_users" u WHERE u."tenant_id" = ? AND u."email" = ?`,
  touchUser: 'UPDATE "jit_users" SET "last_login_at" = ?, "updated_at" = ? WHERE "id" = ?',
  insertUser:
    'INSERT INTO "jit_users" ("id", "tenant_id", "email", "status", "source", "attributes", "roles", "external_id", ' +
    '"created_at", "updated_at", "last_login_at", "deactivated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  insertIdentity:
    'INSERT INTO "jit_identities" ("id", "tenant_id", "connection_id", "subject", "user_id", "created_at") VALUES (?, ?, ?, ?, ?, ?)',
  insertAudit:
    'INSERT INTO "jit_audit_events" ("id", "at", "tenant_id", "actor", "action", "connection_id", "subject", "user_id", "reason", "changes") ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
};
const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

function newUserParams(sub: string, at: number) {
  const id = randomUUID();
  const user = [
    id,
    'bench',
    `${sub}@bench.test`,
    'active',
    'jit',
    '{"displayName":"User"}',
    '[{"role":"member","source":"jit"}]',
    null,
    at,
    at,
    at,
    null,
  ];
  const identity = [randomUUID(), 'bench', CONNECTION.id, sub, id, at];
  return { id, user, identity };
}
const auditParams = (action: string, sub: string, userId: unknown, at: number) => [
  uuidv7(new Date(at)),
  at,
  'bench',
  'jit',
  action,
  CONNECTION.id,
  sub,
  userId,
  null,
  '[]',
];

/** (a) better-sqlite3 with prepared statements, one BEGIN IMMEDIATE transaction per login. */
function rawSqlite(file: string): Login {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const s = Object.fromEntries(Object.entries(SQL).map(([k, v]) => [k, db.prepare(v)])) as Record<
    keyof typeof SQL,
    Database.Statement
  >;
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  return {
    async existing(i) {
      const sub = `user-${i % POPULATION}`;
      const at = Date.now();
      begin.run();
      const row = s.findIdentity.get(CONNECTION.id, sub) as { u_id: string };
      s.touchUser.run(at, at, row.u_id);
      s.insertAudit.run(...auditParams('unchanged', sub, row.u_id, at));
      commit.run();
      return row;
    },
    async first(i) {
      const sub = `raw-new-${i}`;
      const at = Date.now();
      begin.run();
      s.findIdentity.get(CONNECTION.id, sub);
      s.findUserByEmail.get('bench', `${sub}@bench.test`);
      const { id, user, identity } = newUserParams(sub, at);
      s.insertUser.run(...user);
      s.insertIdentity.run(...identity);
      s.insertAudit.run(...auditParams('created', sub, id, at));
      commit.run();
      return id;
    },
    async close() {
      db.close();
    },
  };
}

/** (a) pg with a pool of 10 (TypeORM's default), one transaction per login. */
function rawPostgres(url: string): Login {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const q = Object.fromEntries(Object.entries(SQL).map(([k, v]) => [k, numbered(v)])) as Record<
    keyof typeof SQL,
    string
  >;
  const inTransaction = async <T>(work: (c: pg.PoolClient) => Promise<T>) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };
  return {
    existing: (i) =>
      inTransaction(async (c) => {
        const sub = `user-${i % POPULATION}`;
        const at = Date.now();
        const { rows } = await c.query(q.findIdentity, [CONNECTION.id, sub]);
        await c.query(q.touchUser, [at, at, rows[0].u_id]);
        await c.query(q.insertAudit, auditParams('unchanged', sub, rows[0].u_id, at));
        return rows[0];
      }),
    first: (i) =>
      inTransaction(async (c) => {
        const sub = `raw-new-${i}`;
        const at = Date.now();
        await c.query(q.findIdentity, [CONNECTION.id, sub]);
        await c.query(q.findUserByEmail, ['bench', `${sub}@bench.test`]);
        const { id, user, identity } = newUserParams(sub, at);
        await c.query(q.insertUser, user);
        await c.query(q.insertIdentity, identity);
        await c.query(q.insertAudit, auditParams('created', sub, id, at));
        return id;
      }),
    close: () => pool.end(),
  };
}

/**
 * (a') pg with the fewest round trips the decision allows: the reads, then every write of the login in
 * one statement (data-modifying CTEs are atomic), no BEGIN/COMMIT. This is what the store does.
 */
function rawPostgresOneStatement(url: string): Login {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const q = Object.fromEntries(Object.entries(SQL).map(([k, v]) => [k, numbered(v)])) as Record<
    keyof typeof SQL,
    string
  >;
  const touchAndAudit = numbered(
    `WITH w0 AS (${SQL.touchUser} RETURNING 1), w1 AS (${SQL.insertAudit} RETURNING 1) SELECT 1 / LEAST((SELECT COUNT(*) FROM w0), 1) AS ok`,
  );
  const create = numbered(
    `WITH w0 AS (${SQL.insertUser} RETURNING 1), w1 AS (${SQL.insertIdentity} RETURNING 1), w2 AS (${SQL.insertAudit} RETURNING 1) SELECT 1 AS ok`,
  );
  const onClient = async <T>(work: (c: pg.PoolClient) => Promise<T>) => {
    const client = await pool.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  };
  return {
    existing: (i) =>
      onClient(async (c) => {
        const sub = `user-${i % POPULATION}`;
        const at = Date.now();
        const { rows } = await c.query(q.findIdentity, [CONNECTION.id, sub]);
        await c.query(touchAndAudit, [
          at,
          at,
          rows[0].u_id,
          ...auditParams('unchanged', sub, rows[0].u_id, at),
        ]);
        return rows[0];
      }),
    first: (i) =>
      onClient(async (c) => {
        const sub = `raw1-new-${i}`;
        const at = Date.now();
        await c.query(q.findIdentity, [CONNECTION.id, sub]);
        await c.query(q.findUserByEmail, ['bench', `${sub}@bench.test`]);
        const { id, user, identity } = newUserParams(sub, at);
        await c.query(create, [...user, ...identity, ...auditParams('created', sub, id, at)]);
        return id;
      }),
    close: () => pool.end(),
  };
}

/** (b) The verify callback most apps write: find the user by email, save one if missing. No audit, no race safety. */
interface PassportUser {
  id: string;
  email: string;
  displayName: string | null;
  createdAt: Date;
}
const passportUserEntity = (postgres: boolean) =>
  new EntitySchema<PassportUser>({
    name: 'PassportUser',
    tableName: 'passport_users',
    columns: {
      id: postgres
        ? { type: 'uuid', primary: true, generated: 'uuid' }
        : { type: 'varchar', length: 36, primary: true, generated: 'uuid' },
      email: { type: 'varchar', length: 320, unique: true },
      displayName: { type: 'varchar', length: 200, nullable: true },
      createdAt: { type: Date, createDate: true },
    },
  });

async function typeormVerify(options: ConstructorParameters<typeof DataSource>[0]): Promise<Login> {
  const entity = passportUserEntity(options.type === 'postgres');
  const dataSource = new DataSource({ ...options, entities: [entity], synchronize: true } as typeof options);
  await dataSource.initialize();
  const repo: Repository<PassportUser> = dataSource.getRepository(entity);
  for (let from = 0; from < POPULATION; from += 100) {
    await repo.insert(
      Array.from({ length: 100 }, (_, i) => ({ email: `user-${from + i}@bench.test`, displayName: 'User' })),
    );
  }
  const verify = async (profile: { email: string; name: string }) => {
    const email = profile.email.toLowerCase();
    let user = await repo.findOne({ where: { email } });
    if (!user) user = await repo.save(repo.create({ email, displayName: profile.name }));
    return user;
  };
  return {
    existing: (i) => verify({ email: `user-${i % POPULATION}@bench.test`, name: 'User' }),
    first: (i) => verify({ email: `orm-new-${i}@bench.test`, name: 'User' }),
    close: () => dataSource.destroy(),
  };
}

/** (c) The engine on TypeormStore. */
function engine(dataSource: DataSource): Login & { provisioner: Provisioner } {
  const provisioner = createProvisioner({ store: new TypeormStore(dataSource), connections: [CONNECTION] });
  const login = (sub: string) =>
    provisioner.provision({ connectionId: CONNECTION.id, profile: fromOidcClaims(claims(sub)) });
  return {
    provisioner,
    existing: (i) => login(`user-${i % POPULATION}`),
    first: (i) => login(`store-new-${i}`),
    close: () => dataSource.destroy(),
  };
}

/** A migrated jit database with POPULATION users, provisioned by the engine. */
async function populated(url: string): Promise<DataSource> {
  const dataSource = await createJitDataSource(url);
  await migrate(dataSource);
  const { provisioner } = engine(dataSource);
  for (let i = 0; i < POPULATION; i++) {
    await provisioner.provision({
      connectionId: CONNECTION.id,
      profile: fromOidcClaims(claims(`user-${i}`)),
    });
  }
  return dataSource;
}

const created: string[] = [];

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

async function freshPostgres(suffix: string): Promise<string> {
  const name = `${DATABASE_PREFIX}_${suffix}`;
  await adminQuery(`DROP DATABASE IF EXISTS "${name}"`);
  await adminQuery(`CREATE DATABASE "${name}"`);
  created.push(name);
  return `${SERVER}/${name}`;
}

// ---- the run -------------------------------------------------------------------------------------

interface Row {
  backend: string;
  scenario: string;
  concurrency: number;
  impl: 'raw' | 'raw1' | 'orm' | 'store';
  figures: Figures;
}
const rows: Row[] = [];

let step = 0;

async function compare(
  backend: string,
  impls: Partial<Record<Row['impl'], Login>>,
  plan: { scenario: 'existing' | 'first'; concurrency: number; n: number }[],
) {
  for (const { scenario, concurrency, n } of plan) {
    // The order rotates from one step to the next, so that a slow moment of the disk does not always
    // fall on the same implementation.
    const all = ['raw', 'raw1', 'orm', 'store'] as const;
    const order = all.map((_, i) => all[(i + step) % all.length]!);
    step++;
    console.error(`${backend} ${scenario} x${concurrency}: ${order.join(', ')}`);
    for (const impl of order) {
      const login = impls[impl];
      if (!login) continue;
      // Warm up on a disjoint range so that first logins stay first.
      const offset =
        scenario === 'first'
          ? rows.filter((r) => r.impl === impl && r.backend === backend).length * 100_000
          : 0;
      await measure(size(200), concurrency, (i) => login[scenario](offset + 50_000 + i));
      const figures = await measure(size(n), concurrency, (i) => login[scenario](offset + i));
      rows.push({ backend, scenario, concurrency, impl, figures });
      console.error(
        `${backend} ${scenario} x${concurrency} ${impl}: ${figures.perSecond.toFixed(0)}/s p50 ${figures.p50.toFixed(3)} ms p99 ${figures.p99.toFixed(3)} ms`,
      );
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'jit-bench-'));
try {
  // SQLite: one file per implementation, WAL, synchronous = NORMAL.
  {
    const storeDs = await populated(`sqlite:${join(dir, 'store.db')}`);
    await (await populated(`sqlite:${join(dir, 'raw.db')}`)).destroy();
    const impls = {
      raw: rawSqlite(join(dir, 'raw.db')),
      orm: await typeormVerify({
        type: 'better-sqlite3',
        database: join(dir, 'orm.db'),
        enableWAL: true,
        prepareDatabase: (db: Database.Database) => void db.pragma('synchronous = NORMAL'),
      }),
      store: engine(storeDs),
    };
    await compare('SQLite (file, WAL)', impls, [
      { scenario: 'existing', concurrency: 1, n: 20_000 },
      { scenario: 'first', concurrency: 1, n: 5_000 },
    ]);
    for (const impl of Object.values(impls)) await impl.close();
  }
  // PostgreSQL: one database per implementation.
  {
    const storeDs = await populated(await freshPostgres('store'));
    const rawUrl = await freshPostgres('raw');
    await (await populated(rawUrl)).destroy();
    const raw1Url = await freshPostgres('raw1');
    await (await populated(raw1Url)).destroy();
    const impls = {
      raw: rawPostgres(rawUrl),
      raw1: rawPostgresOneStatement(raw1Url),
      orm: await typeormVerify({ type: 'postgres', url: await freshPostgres('orm') }),
      store: engine(storeDs),
    };
    await compare('PostgreSQL', impls, [
      { scenario: 'existing', concurrency: 1, n: 3_000 },
      { scenario: 'first', concurrency: 1, n: 1_500 },
      { scenario: 'existing', concurrency: 32, n: 6_000 },
      { scenario: 'first', concurrency: 32, n: 3_000 },
    ]);
    for (const impl of Object.values(impls)) await impl.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  for (const name of created) await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

// ---- report ----------------------------------------------------------------------------------------

const fmt = (x: number, d = 0) => x.toFixed(d);
console.log(
  '| backend | logins | concurrency | implementation | logins/s | p50 ms | p99 ms | store ÷ floor (p50) | store vs orm (logins/s) |',
);
console.log('| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  const group = rows.filter(
    (r) => r.backend === row.backend && r.scenario === row.scenario && r.concurrency === row.concurrency,
  );
  // The floor: the faster raw variant in this group.
  const raw = group
    .filter((r) => r.impl === 'raw' || r.impl === 'raw1')
    .map((r) => r.figures)
    .sort((a, b) => a.p50 - b.p50)[0]!;
  const orm = group.find((r) => r.impl === 'orm')!.figures;
  const f = row.figures;
  const vsRaw = row.impl === 'store' ? `${fmt(f.p50 / raw.p50, 2)}x` : '';
  const vsOrm = row.impl === 'store' ? `${fmt(f.perSecond / orm.perSecond, 2)}x` : '';
  console.log(
    `| ${row.backend} | ${row.scenario} | ${row.concurrency} | ${row.impl} | ${fmt(f.perSecond)} | ${fmt(f.p50, 3)} | ${fmt(f.p99, 3)} | ${vsRaw} | ${vsOrm} |`,
  );
}
