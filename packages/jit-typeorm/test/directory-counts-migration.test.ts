import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { createJitDataSource, jitDataSourceOptions, jitMigrations, migrate } from '../src/index.js';
import { dialectOfUrl } from '../src/data-source.js';
import { TypeormDirectoryStore } from '../src/directory/index.js';
import { freshMysql, freshPostgres } from './databases.js';

const COUNTS_DATABASE = 'jit_scim_counts';
const dir = mkdtempSync(join(tmpdir(), 'jit-scim-counts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The migrations after the first directory schema, which fill what they add from stored rows. */
const filling = (name: string) =>
  /^(ScimListsAndMembers|ScimMemberKeys|ScimGroupMemberCounts|ScimCountSlots)/.test(name);

/**
 * A database migrated before the directories kept their resource counts and the members their
 * lower-cased display names and ids, holding resources, then migrated to the latest: all are
 * filled from what is stored, lists report the counts and `members.display` and `members.value`
 * filters find the old members (whatever the case of their ids).
 */
async function expectCountsFilled(url: string): Promise<void> {
  const dialect = dialectOfUrl(url);
  const before = new DataSource({
    ...jitDataSourceOptions(url),
    migrations: jitMigrations(dialect).filter((m) => !filling(m.name)),
  });
  await before.initialize();
  await before.runMigrations({ transaction: 'each' });
  const q = (name: string) => (dialect === 'mysql' ? `\`${name}\`` : `"${name}"`);
  await before.query(
    `INSERT INTO ${q('jit_scim_directories')} (${['id', 'tenant_id', 'name', 'connection_id', 'created_at'].map(q).join(', ')}) ` +
      `VALUES ('dir-a', 't', 'A', NULL, 0), ('dir-b', 't', 'B', NULL, 0), ('dir-c', 't', 'C', NULL, 0)`,
  );
  const resources: Array<[string, string, string]> = [
    ['u1', 'dir-a', 'User'],
    ['U2', 'dir-a', 'User'],
    ['u3', 'dir-a', 'User'],
    ['g1', 'dir-a', 'Group'],
    ['u4', 'dir-b', 'User'],
  ];
  const columns = [
    'id',
    'directory_id',
    'type',
    'name',
    'name_key',
    'user_name_key',
    'data',
    'version',
    'created_at',
    'updated_at',
  ];
  for (const [id, directoryId, type] of resources) {
    const userNameKey = type === 'User' ? `'${id}'` : 'NULL';
    await before.query(
      `INSERT INTO ${q('jit_scim_resources')} (${columns.map(q).join(', ')}) ` +
        `VALUES ('${id}', '${directoryId}', '${type}', '${id}', '${id}', ${userNameKey}, '{}', 1, 0, 0)`,
    );
    if (type === 'User')
      await before.query(
        `INSERT INTO ${q('jit_users')} (${['id', 'tenant_id', 'email', 'status', 'source', 'attributes', 'roles', 'created_at', 'updated_at'].map(q).join(', ')}) ` +
          `VALUES ('${id}', 't', '${id}@scim.invalid', 'active', 'scim', '{}', '[]', 0, 0)`,
      );
  }
  await before.query(
    `INSERT INTO ${q('jit_scim_members')} (${['group_id', 'member_id', 'directory_id', 'display'].map(q).join(', ')}) ` +
      `VALUES ('g1', 'u1', 'dir-a', 'Ann Ärger'), ('g1', 'U2', 'dir-a', NULL)`,
  );
  await before.destroy();

  const after = await createJitDataSource(url);
  try {
    expect(await migrate(after)).toEqual([
      expect.stringMatching(/^ScimListsAndMembers/),
      expect.stringMatching(/^ScimMemberKeys/),
      expect.stringMatching(/^ScimGroupMemberCounts/),
      expect.stringMatching(/^ScimCountSlots/),
    ]);
    const store = new TypeormDirectoryStore(after);
    const total = async (directoryId: string, type: 'User' | 'Group', offset = 0) =>
      (await store.queryResources({ directoryId, type, offset, limit: 2 })).total;
    expect([
      await total('dir-a', 'User'),
      await total('dir-a', 'User', 2),
      await total('dir-a', 'Group'),
    ]).toEqual([3, 3, 1]);
    expect([
      await total('dir-b', 'User'),
      await total('dir-b', 'Group'),
      await total('dir-c', 'User'),
    ]).toEqual([1, 0, 0]);
    const page = await store.queryResources({ directoryId: 'dir-a', type: 'User', offset: 2, limit: 2 });
    expect(page.resources.map((r) => r.id)).toEqual(['u3']);
    const byDisplay = await store.queryResources({
      directoryId: 'dir-a',
      type: 'Group',
      filter: { op: 'eq', attribute: { schema: null, name: 'members', sub: 'display' }, value: 'ANN ärger' },
      offset: 0,
      limit: 10,
    });
    expect(byDisplay.resources.map((r) => r.id)).toEqual(['g1']);
    const byMember = async (value: string) =>
      (
        await store.queryResources({
          directoryId: 'dir-a',
          type: 'Group',
          filter: { op: 'eq', attribute: { schema: null, name: 'members', sub: 'value' }, value },
          offset: 0,
          limit: 10,
        })
      ).resources.map((r) => r.id);
    expect([await byMember('u2'), await byMember('U1'), await byMember('u4')]).toEqual([['g1'], ['g1'], []]);
    // (Sorted here: PostgreSQL's collation may order 'u1' before 'U2'.)
    const members = [...(await store.listMembers('g1'))].sort((a, b) => (a.value < b.value ? -1 : 1));
    expect(members).toEqual([
      { value: 'U2', display: null },
      { value: 'u1', display: 'Ann Ärger' },
    ]);
    // The group's member count, read as the total of the users in it.
    const inGroup = async () => {
      const found = await store.queryResources({
        directoryId: 'dir-a',
        type: 'User',
        filter: { op: 'eq', attribute: { schema: null, name: 'groups', sub: 'value' }, value: 'g1' },
        offset: 0,
        limit: 1,
      });
      return { total: found.total, ids: found.resources.map((r) => r.id) };
    };
    expect(await inGroup()).toEqual({ total: 2, ids: [members[0]!.value] });
    // The migrations go down and up again.
    for (let i = 0; i < 4; i++) await after.undoLastMigration({ transaction: 'each' });
    expect(await migrate(after)).toHaveLength(4);
    expect(await total('dir-a', 'User', 1)).toBe(3);
    expect(await byMember('u2')).toEqual(['g1']);
    expect((await inGroup()).total).toBe(2);
  } finally {
    await after.destroy();
  }
}

describe('the migrations adding directory counts, member keys and group member counts', () => {
  it('fills them from the stored rows on SQLite', () =>
    expectCountsFilled(`sqlite:${join(dir, 'counts.db')}`));
  it('fills them from the stored rows on PostgreSQL', async () =>
    expectCountsFilled(await freshPostgres(COUNTS_DATABASE)));
  it('fills them from the stored rows on MariaDB', async () =>
    expectCountsFilled((await freshMysql(COUNTS_DATABASE)).replace(/^mysql:/, 'mariadb:')));
});
