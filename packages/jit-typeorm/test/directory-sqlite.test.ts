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

  it('uses the indexes for userName, attribute and membership lookups', async () => {
    // The statements queryResources runs, caught at the driver (on a data source of its own, so that
    // none is already prepared), then explained with their parameters.
    const planned = await createJitDataSource('sqlite::memory:', { synchronize: true });
    const connection = (
      planned.driver as unknown as {
        databaseConnection: { prepare(sql: string): { all(...params: unknown[]): unknown[] } };
      }
    ).databaseConnection;
    const plans = async (filter: ScimFilter, type: 'User' | 'Group' = 'User'): Promise<string[]> => {
      const seen: string[] = [];
      const prepare = connection.prepare;
      connection.prepare = function (this: typeof connection, sql: string) {
        seen.push(sql);
        return prepare.call(this, sql);
      };
      const store = new TypeormDirectoryStore(planned);
      try {
        await store.queryResources({ directoryId: 'plan-d', type, filter, offset: 0, limit: 10 });
      } finally {
        connection.prepare = prepare;
      }
      return seen
        .filter((sql) => sql.startsWith('SELECT'))
        .map((sql) => {
          const params = (sql.match(/\?/g) ?? []).map(() => 'x');
          return (connection.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
            .map((r) => r.detail)
            .join(' | ');
        });
    };
    // `userName eq`: one statement on the unique (directory, user_name_key) index, no sort, no walk
    // of the (directory, type, id) index that would make lookups grow with the directory.
    const byName = await plans({ op: 'eq', attribute: attr('username'), value: 'Ann@Acme.test' });
    expect(byName).toHaveLength(1);
    expect(byName[0]).toMatch(/SEARCH r USING INDEX UQ_jit_scim_resources_user_name/);
    expect(byName[0]).not.toMatch(/TEMP B-TREE|IDX_jit_scim_resources_list/);
    // An attribute value: the (directory, attribute, prefix) index of the value rows.
    const byEmail = await plans({ op: 'eq', attribute: attr('emails', 'value'), value: 'a@acme.test' });
    expect(byEmail.join('\n')).toMatch(/IDX_jit_scim_values_text/);
    expect(byEmail.join('\n')).not.toMatch(/SCAN r\b/);
    // Memberships: a group's members by id or display name on the directory's member indexes, a
    // user's groups from the directory's groups; never a scan of every directory's memberships.
    const byMember = await plans({ op: 'eq', attribute: attr('members', 'value'), value: 'U-1' }, 'Group');
    expect(byMember.join('\n')).toMatch(
      /SEARCH m USING (COVERING )?INDEX IDX_jit_scim_members_directory_member/,
    );
    const byDisplay = await plans({ op: 'eq', attribute: attr('members', 'display'), value: 'Ann' }, 'Group');
    expect(byDisplay.join('\n')).toMatch(/SEARCH m USING INDEX IDX_jit_scim_members_directory_display/);
    const inGroup = await plans({ op: 'eq', attribute: attr('groups', 'value'), value: 'G-1' });
    expect(inGroup.join('\n')).toMatch(/SEARCH m USING (COVERING )?INDEX sqlite_autoindex_jit_scim_members/);
    for (const plan of [byMember, byDisplay, inGroup]) expect(plan.join('\n')).not.toMatch(/SCAN m\b/);
    await planned.destroy();
  });
});
