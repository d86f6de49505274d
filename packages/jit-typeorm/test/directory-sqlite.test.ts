import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { filterView, matchesFilter, type AttributePath, type ScimFilter } from '@jit-sso/core';
import { runDirectoryConformance } from '@jit-sso/core/testing';
import { createJitDataSource, migrate } from '../src/index.js';
import { TypeormDirectoryStore } from '../src/directory/index.js';

const dir = mkdtempSync(join(tmpdir(), 'jit-scim-dir-'));
let file: DataSource;
let memory: DataSource;
beforeAll(async () => {
  file = await createJitDataSource(`sqlite:${join(dir, 'directory.db')}`);
  await migrate(file);
  memory = await createJitDataSource('sqlite::memory:', { synchronize: true });
});
afterAll(async () => {
  await file?.destroy();
  await memory?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

runDirectoryConformance({
  name: 'TypeORM SQLite file, migrated',
  store: () => new TypeormDirectoryStore(file),
});
runDirectoryConformance({
  name: 'TypeORM SQLite :memory:',
  store: () => new TypeormDirectoryStore(memory),
  seed: 7,
});

const attr = (name: string, sub: string | null = null): AttributePath => ({ schema: null, name, sub });
const word = fc.constantFrom('ann', 'Ann', 'ANNA', 'bo', 'b%', 'a_c', '', 'x@acme.test', 'Zed');
const value = fc.oneof(word, fc.integer({ min: -3, max: 3 }), fc.boolean(), fc.constant(null));
const path = fc.constantFrom(
  attr('username'),
  attr('title'),
  attr('nickname'),
  attr('name', 'givenname'),
  attr('emails', 'value'),
  attr('emails'),
  attr('active'),
  attr('externalid'),
);
const leaf: fc.Arbitrary<ScimFilter> = fc.oneof(
  fc.record({
    op: fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'),
    attribute: path,
    value,
  }) as fc.Arbitrary<ScimFilter>,
  path.map((attribute) => ({ op: 'pr' as const, attribute })),
  fc
    .record({
      op: fc.constantFrom('eq', 'ne', 'co'),
      attribute: fc.constantFrom(attr('type'), attr('value')),
      value: word,
    })
    .map((f) => ({ op: 'has' as const, attribute: attr('emails'), filter: f as ScimFilter })),
);
const { filter } = fc.letrec<{ filter: ScimFilter }>((tie) => ({
  filter: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'f' },
    leaf,
    fc.record({
      op: fc.constantFrom('and' as const, 'or' as const),
      filters: fc.array(tie('filter'), { minLength: 2, maxLength: 3 }),
    }),
    tie('filter').map((f) => ({ op: 'not' as const, filter: f })),
  ),
}));
const userData = fc.record(
  {
    title: fc.oneof(word, fc.integer({ min: -3, max: 3 }), fc.boolean()),
    nickName: word,
    name: fc.record({ givenName: word }, { requiredKeys: [] }),
    emails: fc.array(fc.record({ type: fc.constantFrom('work', 'home'), value: word }), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

describe('SQL filter translation (property)', () => {
  it('selects exactly the users the reference evaluator selects, on random users and filters', async () => {
    const store = new TypeormDirectoryStore(memory);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(word, userData, fc.boolean(), fc.option(fc.constantFrom('E1', 'e1'))), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.array(filter, { minLength: 1, maxLength: 5 }),
        async (users, filters) => {
          const directory = await store.directoryTransaction((tx) =>
            tx.insertDirectory({
              id: crypto.randomUUID(),
              tenantId: 'prop',
              name: 'p',
              connectionId: null,
              createdAt: new Date(),
            }),
          );
          const views = new Map<string, Record<string, unknown>>();
          for (const [i, [name, data, active, externalId]] of users.entries()) {
            const record = await store.directoryTransaction(async (tx) => {
              const id = crypto.randomUUID();
              await tx.insertUser({
                id,
                tenantId: 'prop',
                email: `${id}@scim.invalid`,
                status: active ? 'active' : 'deactivated',
                source: 'scim',
                attributes: {},
                roles: [],
                externalId: null,
                createdAt: new Date(),
                lastLoginAt: null,
              });
              return tx.insertResource({
                id,
                directoryId: directory.id,
                type: 'User',
                name: `${name}${i}`,
                externalId: externalId ?? null,
                data,
                createdAt: new Date(),
              });
            });
            views.set(record.id, filterView(record, { active }));
          }
          for (const f of filters) {
            const page = await store.queryResources({
              directoryId: directory.id,
              type: 'User',
              filter: f,
              offset: 0,
              limit: 100,
            });
            const expected = [...views]
              .filter(([, view]) => matchesFilter(view, f))
              .map(([id]) => id)
              .sort();
            expect(page.resources.map((r) => r.id).sort()).toEqual(expected);
            expect(page.total).toBe(expected.length);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('uses the indexes for userName and attribute lookups', async () => {
    const plan = async (sql: string) =>
      ((await memory.query(`EXPLAIN QUERY PLAN ${sql}`)) as { detail: string }[])
        .map((r) => r.detail)
        .join(' | ');
    expect(
      await plan(`SELECT id FROM jit_scim_resources WHERE directory_id = 'd' AND user_name_key = 'x'`),
    ).toMatch(/USING INDEX UQ_jit_scim_resources_user_name/);
    expect(
      await plan(
        `SELECT id FROM jit_scim_resources r WHERE r.directory_id = 'd' AND r.type = 'User' AND r.id IN (SELECT v.resource_id FROM jit_scim_values v WHERE v.directory_id = 'd' AND v.attr IN ('emails.value') AND v.kind = 's' AND v.prefix = 'a' AND v.text = 'a')`,
      ),
    ).toMatch(/IDX_jit_scim_values_text/);
    // The page query of a `userName eq` filter as queryResources builds it: the name index, not a walk
    // of the (directory, type, id) index that would make lookups grow with the directory.
    expect(
      await plan(
        `SELECT r.id, u.status FROM jit_scim_resources r JOIN jit_users u ON u.id = r.id WHERE r.directory_id = 'd' AND r.type = 'User' AND r.name_key = 'x' ORDER BY +r.id LIMIT 1 OFFSET 0`,
      ),
    ).toMatch(/USING INDEX IDX_jit_scim_resources_name/);
  });
});
