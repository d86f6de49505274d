import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createProvisioner, fromOidcClaims } from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormStore } from '../src/index.js';
import { freshPostgres } from './databases.js';

const USERS = 1_000_000;
const TENANTS = 100;

/** Every statement the store sends to PostgreSQL while `work` runs. */
async function capture(work: () => Promise<unknown>): Promise<{ text: string; values: unknown[] }[]> {
  const seen: { text: string; values: unknown[] }[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    if (typeof args[0] === 'string' && Array.isArray(args[1])) seen.push({ text: args[0], values: args[1] });
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = original;
  }
  return seen;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

describe(`PostgreSQL with ${USERS.toLocaleString('en')} users`, () => {
  let url: string;
  let dataSource: DataSource;
  let admin: pg.Client;

  beforeAll(async () => {
    url = await freshPostgres('jit_typeorm_scale');
    dataSource = await createJitDataSource(url);
    await migrate(dataSource);
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const at = Date.parse('2026-01-01T00:00:00Z');
    // Load without the secondary indexes, then rebuild them exactly as the migration defined them.
    const { rows: indexes } = await admin.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('jit_users', 'jit_identities') `,
    );
    for (const index of indexes) {
      if (index.indexname.startsWith('PK_')) {
        await admin.query(
          `ALTER TABLE ${index.indexdef.match(/ON (\S+)/)[1]} DROP CONSTRAINT "${index.indexname}"`,
        );
      } else await admin.query(`DROP INDEX "${index.indexname}"`);
    }
    await admin.query(`
      INSERT INTO jit_users (id, tenant_id, email, status, source, attributes, roles, external_id,
                             created_at, updated_at, last_login_at, deactivated_at)
      SELECT md5('u' || g)::uuid::text, 'tenant-' || (g % ${TENANTS}), 'user' || g || '@acme.test', 'active', 'jit',
             '{}', '[{"role":"member","source":"jit"}]', NULL, ${at}, ${at}, ${at} + g, NULL
        FROM generate_series(1, ${USERS}) AS g`);
    await admin.query(`
      INSERT INTO jit_identities (id, tenant_id, connection_id, subject, user_id, created_at)
      SELECT md5('i' || g)::uuid::text, 'tenant-' || (g % ${TENANTS}), 'conn-' || (g % ${TENANTS}), 'sub-' || g,
             md5('u' || g)::uuid::text, ${at}
        FROM generate_series(1, ${USERS}) AS g`);
    for (const index of indexes) {
      await admin.query(index.indexdef);
      if (index.indexname.startsWith('PK_')) {
        const table = index.indexdef.match(/ON (\S+)/)[1];
        await admin.query(
          `ALTER TABLE ${table} ADD CONSTRAINT "${index.indexname}" PRIMARY KEY USING INDEX "${index.indexname}"`,
        );
      }
    }
    await admin.query('ANALYZE jit_users; ANALYZE jit_identities');
  }, 600_000);
  afterAll(async () => {
    await admin?.end();
    await dataSource?.destroy();
  });

  it('answers logins of existing and new users through the indexes, never a table scan', async () => {
    const store = new TypeormStore(dataSource);
    const connections = [
      {
        id: 'conn-42',
        tenantId: 'tenant-42',
        protocol: 'oidc' as const,
        issuer: 'https://idp.test',
        jit: { verifiedDomains: ['acme.test'], defaultRoles: ['member'] },
      },
    ];
    const provisioner = createProvisioner({
      store,
      connections,
      tenants: [{ id: 'tenant-42', seatLimit: USERS }],
    });
    const login = (sub: string, email: string) =>
      provisioner.provision({
        connectionId: 'conn-42',
        profile: fromOidcClaims({ iss: 'https://idp.test', sub, email, email_verified: true }),
      });

    const statements = await capture(async () => {
      expect((await login('sub-4242', 'user4242@acme.test')).action).toBe('unchanged');
      expect((await login('sub-new', 'new-person@acme.test')).action).toBe('created');
    });
    const reads = statements.filter((s) => /^(SELECT|UPDATE)/.test(s.text));
    // findIdentity (twice), updateUser, findUserByEmail, the tenant lock (twice on first use), the seat count.
    expect(reads.length).toBeGreaterThanOrEqual(6);

    for (const { text, values } of reads) {
      const { rows } = await admin.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
      const plan = nodes((rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
      const scans = plan.filter(
        (n) =>
          n['Node Type'].endsWith('Scan') &&
          ['jit_users', 'jit_identities'].includes(n['Relation Name'] ?? ''),
      );
      expect(
        scans.map((n) => n['Node Type']),
        text,
      ).not.toContain('Seq Scan');
      for (const scan of scans)
        expect(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan'], text).toContain(scan['Node Type']);
    }
    const indexes = new Set(
      (
        await Promise.all(
          reads.map(async ({ text, values }) => {
            const { rows } = await admin.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
            return nodes(rows[0]['QUERY PLAN'][0].Plan).map((n) => n['Index Name']);
          }),
        )
      ).flat(),
    );
    expect(indexes).toContain('UQ_jit_identities_connection_subject');
    expect(indexes).toContain('UQ_jit_users_tenant_email');
  });

  it('counts a tenant’s active seats and lists its dormant users by index', async () => {
    const store = new TypeormStore(dataSource);
    const statements = await capture(async () => {
      expect(await store.countUsers({ tenantId: 'tenant-7' })).toEqual({
        active: USERS / TENANTS,
        deactivated: 0,
      });
      expect(
        await store.findDormantUsers('tenant-7', new Date(Date.parse('2026-01-01T00:00:00Z') + 1000), {
          limit: 50,
        }),
      ).toHaveLength(10);
    });
    for (const { text, values } of statements.filter((s) => s.text.startsWith('SELECT'))) {
      const { rows } = await admin.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
      const plan = nodes(rows[0]['QUERY PLAN'][0].Plan);
      expect(
        plan.map((n) => n['Node Type']),
        text,
      ).not.toContain('Seq Scan');
    }
  });
});
