/**
 * Large SCIM groups on PostgreSQL: what one member added, one removed, a rename and a
 * `groups.value eq` lookup cost in groups of 10, 10,000 and 100,000 members.
 *
 *   NX_DAEMON=false npx nx run-many -t build -p @jit-sso/core @jit-sso/scim @jit-sso/typeorm
 *   node_modules/.bin/tsx bench/scim/groups.ts [--sizes 10,10000,100000] [--ops 200] [--warmup 20] [--smoke]
 *
 * jit-scim runs from its build; with `--conditions=source` (`node --conditions=source --import tsx`)
 * it runs from the TypeScript sources. The directory's users and the groups' members are written
 * with bulk SQL (`INSERT … SELECT` from one user created through SCIM): the setup is not what is
 * measured. Every request goes through `service.handle` with the directory's bearer token, on a
 * service whose connection maps another group (`Admins`) to a role, so that each write also decides
 * whose roles it may change. `--smoke` runs tiny sizes in seconds (for the test that keeps this
 * script working). The database (`--database`, default `jit_bench_groups`) is dropped and created.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const smoke = args.includes('--smoke');
const SIZES = (option('sizes') ?? (smoke ? '3,40' : '10,10000,100000')).split(',').map(Number);
const OPS = Number(option('ops') ?? (smoke ? 4 : 200));
const WARMUP = Number(option('warmup') ?? (smoke ? 1 : 20));
const SERVER =
  option('server') ?? process.env['JIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE = option('database') ?? 'jit_bench_groups';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

async function freshDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: `${SERVER}/test` });
  await admin.connect();
  try {
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [DATABASE],
    );
    await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}"`);
    await admin.query(`CREATE DATABASE "${DATABASE}"`);
  } finally {
    await admin.end();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
};

async function main(): Promise<void> {
  const { createProvisioner } = await import('@jit-sso/core');
  const { createJitDataSource, migrate, TypeormDirectoryStore } = await import('@jit-sso/typeorm');
  const { createDirectory, createScimService, issueDirectoryToken } = await import('@jit-sso/scim');

  await freshDatabase();
  const dataSource = await createJitDataSource(`${SERVER}/${DATABASE}`);
  await migrate(dataSource);
  const db = new pg.Client({ connectionString: `${SERVER}/${DATABASE}` });
  await db.connect();
  try {
    const store = new TypeormDirectoryStore(dataSource);
    const provisioner = createProvisioner({
      store,
      tenants: [{ id: 'bench' }],
      connections: [
        {
          id: 'bench-oidc',
          tenantId: 'bench',
          protocol: 'oidc',
          issuer: 'https://login.bench.test',
          jit: { verifiedDomains: ['bench.test'], roleRules: [{ group: 'Admins', roles: ['admin'] }] },
        },
      ],
    });
    const directory = await createDirectory(store, { tenantId: 'bench', connectionId: 'bench-oidc' });
    const { token } = await issueDirectoryToken(store, directory.id);
    const service = createScimService({ store, provisioner, baseUrl: 'https://app.example.test/scim/v2' });
    const call = async (method: string, path: string, body?: unknown, query?: URLSearchParams) => {
      const res = await service.handle({
        method,
        path,
        headers: { authorization: `Bearer ${token}` },
        body,
        ...(query ? { query } : {}),
      });
      if (res.status >= 300)
        throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res;
    };

    // ---- setup: users and members in bulk ----
    const started = performance.now();
    const largest = Math.max(...SIZES);
    const spare = OPS + WARMUP;
    const template = await call('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'template@bench.test',
      name: { givenName: 'Template', familyName: 'User' },
      emails: [{ value: 'template@bench.test', type: 'work', primary: true }],
    });
    const templateId = (template.body as { id: string }).id;
    const columns = async (table: string) =>
      (
        await db.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
          [table],
        )
      ).rows.map((r) => r.column_name);
    const userColumns = await columns('jit_users');
    const resourceColumns = await columns('jit_scim_resources');
    const fresh = largest + spare;
    await db.query('BEGIN');
    await db.query(
      `CREATE TEMP TABLE bench_ids ON COMMIT DROP AS SELECT n, gen_random_uuid()::text AS id FROM generate_series(1, $1) n`,
      [fresh],
    );
    const userValues: Record<string, string> = { id: 'i.id', email: `i.id || '@scim.invalid'` };
    await db.query(
      `INSERT INTO jit_users (${userColumns.map((c) => `"${c}"`).join(', ')}) ` +
        `SELECT ${userColumns.map((c) => userValues[c] ?? `t."${c}"`).join(', ')} FROM bench_ids i, jit_users t WHERE t.id = $1`,
      [templateId],
    );
    const userName = `'user' || i.n || '@bench.test'`;
    const resourceValues: Record<string, string> = {
      id: 'i.id',
      name: userName,
      name_key: userName,
      user_name_key: userName,
      external_id: `'ext-' || i.n`,
    };
    await db.query(
      `INSERT INTO jit_scim_resources (${resourceColumns.map((c) => `"${c}"`).join(', ')}) ` +
        `SELECT ${resourceColumns.map((c) => resourceValues[c] ?? `t."${c}"`).join(', ')} FROM bench_ids i, jit_scim_resources t WHERE t.id = $1`,
      [templateId],
    );
    await db.query(
      `INSERT INTO jit_scim_counts AS c (directory_id, type, slot, n) VALUES ($2, 'User', 0, $1) ` +
        `ON CONFLICT (directory_id, type, slot) DO UPDATE SET n = c.n + $1`,
      [fresh, directory.id],
    );
    await db.query('COMMIT');

    // Each group's members are the first `size` users in id order; the last users are never members.
    const groups: { size: number; id: string }[] = [];
    for (const size of SIZES) {
      const created = await call('POST', '/Groups', { schemas: [GROUP], displayName: `Group of ${size}` });
      const id = (created.body as { id: string }).id;
      await db.query(
        `INSERT INTO jit_scim_members (group_id, member_id, directory_id, display, display_key, member_key) ` +
          `SELECT $1, r.id, r.directory_id, r.name, r.name_key, lower(r.id) FROM jit_scim_resources r ` +
          `WHERE r.directory_id = $2 AND r.type = 'User' AND r.id <> $3 ORDER BY r.id LIMIT $4`,
        [id, directory.id, templateId, size],
      );
      // The count the store keeps beside the rows it writes (a schema from before it has none).
      if (resourceColumns.includes('member_count'))
        await db.query('UPDATE jit_scim_resources SET member_count = $1 WHERE id = $2', [size, id]);
      groups.push({ size, id });
    }
    const spares = (
      await db.query<{ id: string }>(
        `SELECT id FROM jit_scim_resources WHERE directory_id = $1 AND type = 'User' AND id <> $2 ORDER BY id DESC LIMIT $3`,
        [directory.id, templateId, spare],
      )
    ).rows.map((r) => r.id);
    await db.query('VACUUM ANALYZE');
    const setupSeconds = (performance.now() - started) / 1000;

    // ---- measured ----
    const results: Record<string, unknown>[] = [];
    for (const group of groups) {
      const timings: Record<string, number[]> = { add: [], remove: [], rename: [], 'groups.value eq': [] };
      const patch = (operations: unknown[]) =>
        call('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: operations });
      const timed = async (what: string, work: () => Promise<unknown>, measured: boolean) => {
        const t0 = performance.now();
        await work();
        if (measured) timings[what]!.push(performance.now() - t0);
      };
      for (let i = 0; i < WARMUP + OPS; i++) {
        const measured = i >= WARMUP;
        const member = spares[i]!;
        // Entra ID's forms: Add with a value list, Remove by value list; Okta's remove by filter.
        await timed(
          'add',
          () => patch([{ op: 'Add', path: 'members', value: [{ value: member }] }]),
          measured,
        );
        await timed(
          'remove',
          () =>
            patch(
              i % 2
                ? [{ op: 'Remove', path: 'members', value: [{ value: member }] }]
                : [{ op: 'remove', path: `members[value eq "${member}"]` }],
            ),
          measured,
        );
        await timed(
          'rename',
          () => patch([{ op: 'Replace', path: 'displayName', value: `Group of ${group.size} (${i})` }]),
          measured,
        );
        await timed(
          'groups.value eq',
          async () => {
            const res = await call(
              'GET',
              '/Users',
              undefined,
              new URLSearchParams({ filter: `groups.value eq "${group.id}"`, count: '100' }),
            );
            const body = res.body as { totalResults: number; Resources: unknown[] };
            if (body.totalResults !== group.size || body.Resources.length !== Math.min(100, group.size))
              throw new Error(`groups.value eq: ${body.totalResults} results for a group of ${group.size}`);
          },
          measured,
        );
      }
      const stored = await db.query<{ n: string }>(
        'SELECT COUNT(*) AS n FROM jit_scim_members WHERE group_id = $1',
        [group.id],
      );
      if (Number(stored.rows[0]!.n) !== group.size) throw new Error(`group of ${group.size} changed size`);
      const row: Record<string, unknown> = { members: group.size };
      for (const [what, values] of Object.entries(timings)) {
        row[what] = { p50: +median(values).toFixed(2), p90: +percentile(values, 0.9).toFixed(2) };
      }
      results.push(row);
    }

    const output = {
      database: 'PostgreSQL',
      users: fresh + 1,
      ops: OPS,
      setupSeconds: +setupSeconds.toFixed(1),
      results,
    };
    console.log(JSON.stringify(output, null, 2));
    console.error(
      '\n| members | add one (p50 / p90 ms) | remove one | rename | `groups.value eq`, page of 100 |',
    );
    console.error('| --- | --- | --- | --- | --- |');
    for (const r of results) {
      const cell = (what: string) => {
        const t = r[what] as { p50: number; p90: number };
        return `${t.p50} / ${t.p90}`;
      };
      console.error(
        `| ${Number(r['members']).toLocaleString('en')} | ${cell('add')} | ${cell('remove')} | ${cell('rename')} | ${cell('groups.value eq')} |`,
      );
    }
  } finally {
    await db.end();
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
