import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  filterView,
  matchesFilter,
  compareForSort,
  type AttributePath,
  type DirectoryStore,
  type DirectoryTransaction,
  type ScimFilter,
  type ScimResourceRecord,
} from '../directory.js';
import { StoreConflictError } from '../errors.js';

export interface DirectoryConformanceOptions {
  name: string;
  store: () => DirectoryStore | Promise<DirectoryStore>;
  /** Random filters checked against `matchesFilter` (default 300). */
  filterRuns?: number;
  /** Seed of the random filters and resources, to reproduce a failure. */
  seed?: number;
}

const at = (iso: string) => new Date(iso);

/** A small deterministic PRNG (mulberry32), so that a failing case can be replayed by its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  return { next, int, pick };
}

const attr = (name: string, sub: string | null = null, schema: string | null = null): AttributePath => ({
  schema,
  name,
  sub,
});
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user';

/**
 * The directory part of the store contract, for any `DirectoryStore`. Each run uses fresh
 * directories, so the store need not be empty. The filter checks compare `queryResources` with
 * `matchesFilter` on random users and filters (a store that translates to SQL is graded against the
 * reference evaluator). One long suite on purpose, like `runStoreConformance`: it reads as the
 * contract, one `it` per rule.
 */
export function runDirectoryConformance(options: DirectoryConformanceOptions): void {
  const write = async <T>(store: DirectoryStore, work: (tx: DirectoryTransaction) => Promise<T>) =>
    store.directoryTransaction(work);

  async function directory(store: DirectoryStore, tenantId = `t-${randomUUID().slice(0, 8)}`) {
    return write(store, (tx) =>
      tx.insertDirectory({
        id: randomUUID(),
        tenantId,
        name: 'Directory',
        connectionId: null,
        createdAt: at('2026-01-01T00:00:00Z'),
      }),
    );
  }

  async function scimUser(
    store: DirectoryStore,
    directoryId: string,
    tenantId: string,
    userName: string,
    data: Record<string, unknown> = {},
    created = at('2026-01-01T00:00:00Z'),
  ) {
    return write(store, async (tx) => {
      const id = randomUUID();
      await tx.insertUser({
        id,
        tenantId,
        email: `${id}@scim.invalid`,
        status: 'active',
        source: 'scim',
        attributes: {},
        roles: [],
        externalId: null,
        createdAt: created,
        lastLoginAt: null,
      });
      return tx.insertResource({
        id,
        directoryId,
        type: 'User',
        name: userName,
        externalId: null,
        data,
        createdAt: created,
      });
    });
  }

  describe(`directory store conformance: ${options.name}`, () => {
    let store: DirectoryStore;
    beforeAll(async () => {
      store = await options.store();
    });

    it('keeps directories and finds tokens by hash, revoked or not', async () => {
      const d = await directory(store, 'tenant-x');
      expect(await store.findDirectory(d.id)).toEqual(d);
      expect((await store.listDirectories('tenant-x')).map((x) => x.id)).toContain(d.id);
      const hash = randomUUID().replace(/-/g, '').padEnd(64, '0');
      const token = await write(store, (tx) =>
        tx.insertToken({
          id: randomUUID(),
          directoryId: d.id,
          hash,
          label: 'ci',
          createdAt: at('2026-01-02T00:00:00Z'),
        }),
      );
      expect(await store.findTokenByHash(hash)).toEqual({ ...token, revokedAt: null });
      expect(await store.findTokenWithDirectory(hash)).toEqual({
        token: { ...token, revokedAt: null },
        directory: d,
      });
      await write(store, (tx) => tx.revokeToken(token.id, at('2026-01-03T00:00:00Z')));
      expect((await store.findTokenByHash(hash))!.revokedAt).toEqual(at('2026-01-03T00:00:00Z'));
      expect((await store.findTokenWithDirectory(hash))!.token.revokedAt).toEqual(at('2026-01-03T00:00:00Z'));
      expect(await store.findTokenByHash('0'.repeat(64))).toBeNull();
      expect(await store.findTokenWithDirectory('0'.repeat(64))).toBeNull();
      expect((await store.listTokens(d.id)).map((t) => t.id)).toEqual([token.id]);
    });

    it('keeps resources per directory and type, with the JSON as written', async () => {
      const d = await directory(store);
      const other = await directory(store);
      const data = {
        name: { givenName: 'Ann' },
        emails: [{ value: 'a@x.test', primary: true }],
        [ENTERPRISE]: { department: 'R&D' },
      };
      const u = await scimUser(store, d.id, d.tenantId, 'Ann', data);
      expect(u).toMatchObject({ type: 'User', name: 'Ann', version: 1, data });
      expect(await store.findResource(d.id, 'User', u.id)).toEqual(u);
      expect(await store.findResource(other.id, 'User', u.id)).toBeNull();
      expect(await store.findResource(d.id, 'Group', u.id)).toBeNull();
      expect((await store.findUserByUserName(d.id, 'aNN'))!.id).toBe(u.id);
      expect(await store.findUserByUserName(other.id, 'ann')).toBeNull();
      expect((await store.findResourceOfUser(u.id))!.id).toBe(u.id);
    });

    it('refuses a userName taken in the directory, ignoring case, and allows it in another', async () => {
      const d = await directory(store);
      const other = await directory(store);
      await scimUser(store, d.id, d.tenantId, 'Bob');
      await expect(scimUser(store, d.id, d.tenantId, 'BOB')).rejects.toBeInstanceOf(StoreConflictError);
      await scimUser(store, other.id, other.tenantId, 'bob');
      const second = await scimUser(store, d.id, d.tenantId, 'Robert');
      await expect(
        write(store, (tx) => tx.updateResource(second.id, { name: 'bob', updatedAt: new Date() })),
      ).rejects.toBeInstanceOf(StoreConflictError);
      expect((await store.findResource(d.id, 'User', second.id))!.name).toBe('Robert');
    });

    it('makes a transaction that locks a resource wait for another that holds it, then read its change', async () => {
      const d = await directory(store);
      const user = await scimUser(store, d.id, d.tenantId, 'locked');
      let held!: () => void;
      const locked = new Promise<void>((resolve) => (held = resolve));
      const first = write(store, async (tx) => {
        const current = await tx.lockResource(d.id, 'User', user.id);
        held();
        // Long enough for the second transaction to ask for the lock while this one holds it.
        await new Promise((resolve) => setTimeout(resolve, 150));
        return tx.updateResource(current!.id, { data: { title: 'first' }, updatedAt: new Date() });
      });
      await locked;
      const second = write(store, async (tx) => {
        const current = await tx.lockResource(d.id, 'User', user.id);
        return tx.updateResource(current!.id, {
          data: { ...current!.data, nickName: 'second' },
          updatedAt: new Date(),
        });
      });
      expect((await first).version).toBe(2);
      expect(await second).toMatchObject({ version: 3, data: { title: 'first', nickName: 'second' } });
      expect(await write(store, (tx) => tx.lockResource(d.id, 'Group', user.id))).toBeNull();
      expect(await write(store, (tx) => tx.lockResource(randomUUID(), 'User', user.id))).toBeNull();
    });

    it('shares resources: reads those of the directory and type, and a deletion waits for the sharer', async () => {
      const d = await directory(store);
      const other = await directory(store);
      const ann = await scimUser(store, d.id, d.tenantId, 'ann');
      const bob = await scimUser(store, d.id, d.tenantId, 'bob');
      const stranger = await scimUser(store, other.id, other.tenantId, 'ann');
      const ids = [ann.id, bob.id, ann.id, stranger.id, randomUUID()];
      const read = await write(store, (tx) => tx.shareResources(d.id, 'User', ids));
      expect(read.map((r) => r.id).sort()).toEqual([ann.id, bob.id].sort());
      expect(await write(store, (tx) => tx.shareResources(d.id, 'Group', ids))).toEqual([]);

      let held!: () => void;
      const shared = new Promise<void>((resolve) => (held = resolve));
      const order: string[] = [];
      const sharer = write(store, async (tx) => {
        await tx.shareResources(d.id, 'User', [ann.id]);
        held();
        await new Promise((resolve) => setTimeout(resolve, 150));
        order.push('sharer committed');
      });
      await shared;
      const deleter = write(store, async (tx) => {
        await tx.lockResource(d.id, 'User', ann.id);
        order.push('deleter locked');
        await tx.deleteResource(ann.id);
      });
      await Promise.all([sharer, deleter]);
      expect(order).toEqual(['sharer committed', 'deleter locked']);
    });

    it('allows groups with the same displayName, versions updates, and rolls back failed transactions', async () => {
      const d = await directory(store);
      const insert = (name: string) =>
        write(store, (tx) =>
          tx.insertResource({
            id: randomUUID(),
            directoryId: d.id,
            type: 'Group',
            name,
            externalId: 'e',
            data: {},
            createdAt: new Date(),
          }),
        );
      const g1 = await insert('Team');
      await insert('Team');
      const updated = await write(store, (tx) =>
        tx.updateResource(g1.id, {
          name: 'Team 2',
          data: { note: 'x' },
          updatedAt: at('2026-02-01T00:00:00Z'),
        }),
      );
      expect(updated).toMatchObject({ name: 'Team 2', version: 2, data: { note: 'x' }, externalId: 'e' });
      await expect(
        write(store, async (tx) => {
          await tx.updateResource(g1.id, { name: 'Never', updatedAt: new Date() });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await store.findResource(d.id, 'Group', g1.id))!).toMatchObject({ name: 'Team 2', version: 2 });
    });

    it('filters users by their groups and groups by their members as matchesFilter does', async () => {
      const d = await directory(store);
      const created = at('2026-01-01T00:00:00Z');
      const [ann, bob, cy] = [
        await scimUser(store, d.id, d.tenantId, 'ann'),
        await scimUser(store, d.id, d.tenantId, 'bob'),
        await scimUser(store, d.id, d.tenantId, 'cy'),
      ];
      const group = (name: string) =>
        write(store, (tx) =>
          tx.insertResource({
            id: randomUUID(),
            directoryId: d.id,
            type: 'Group',
            name,
            externalId: null,
            data: {},
            createdAt: created,
          }),
        );
      const [eng, ops] = [await group('Ingeniería ÄÖ'), await group('OPS Team'), await group('Nobody')];
      await write(store, (tx) =>
        tx.changeMembers(
          eng!.id,
          [
            { value: ann!.id, display: 'Ann Ärger' },
            { value: bob!.id, display: null },
          ],
          [],
        ),
      );
      await write(store, (tx) => tx.changeMembers(ops!.id, [{ value: bob!.id, display: 'BOB' }], []));
      const views = async (type: 'User' | 'Group') => {
        const page = await store.queryResources({ directoryId: d.id, type, offset: 0, limit: 10 });
        const out = new Map<string, Record<string, unknown>>();
        for (const r of page.resources) {
          out.set(
            r.id,
            type === 'User'
              ? filterView(r, { active: true, groups: await store.listGroupsOfMember(d.id, r.id) })
              : filterView(r, { members: await store.listMembers(r.id) }),
          );
        }
        return out;
      };
      const text = (
        op: 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt',
        attribute: AttributePath,
        value: string,
      ) => ({ op, attribute, value }) as ScimFilter;
      const userFilters: ScimFilter[] = [
        text('eq', attr('groups'), eng!.id.toUpperCase()),
        text('eq', attr('groups', 'value'), ops!.id),
        text('eq', attr('groups', 'display'), 'ingeniería äö'),
        text('co', attr('groups', 'display'), 'TEAM'),
        text('sw', attr('groups', 'display'), 'ING'),
        text('ne', attr('groups', 'display'), 'ops team'),
        text('gt', attr('groups', 'display'), 'm'),
        text('eq', attr('groups', 'type'), 'Direct'),
        { op: 'pr', attribute: attr('groups') },
        { op: 'pr', attribute: attr('groups', 'display') },
        { op: 'not', filter: { op: 'pr', attribute: attr('groups') } },
        {
          op: 'has',
          attribute: attr('groups'),
          filter: {
            op: 'and',
            filters: [text('ew', attr('display'), 'team'), text('eq', attr('value'), ops!.id)],
          },
        },
        {
          op: 'has',
          attribute: attr('groups'),
          filter: { op: 'not', filter: text('eq', attr('display'), 'ops team') },
        },
      ];
      const groupFilters: ScimFilter[] = [
        text('eq', attr('members'), ann!.id),
        text('eq', attr('members', 'value'), bob!.id.toUpperCase()),
        text('eq', attr('members', 'value'), cy!.id),
        text('eq', attr('members', 'display'), 'ann ärger'),
        text('co', attr('members', 'display'), 'ÄRG'),
        text('ne', attr('members', 'display'), 'bob'),
        text('lt', attr('members', 'display'), 'b'),
        text('eq', attr('members', 'type'), 'user'),
        { op: 'pr', attribute: attr('members') },
        { op: 'pr', attribute: attr('members', 'display') },
        { op: 'not', filter: { op: 'pr', attribute: attr('members', 'display') } },
        { op: 'has', attribute: attr('members'), filter: text('sw', attr('display'), 'bo') },
        {
          op: 'has',
          attribute: attr('members'),
          filter: { op: 'not', filter: { op: 'pr', attribute: attr('display') } },
        },
        {
          op: 'has',
          attribute: attr('members'),
          filter: {
            op: 'or',
            filters: [text('eq', attr('value'), cy!.id), text('eq', attr('display'), 'BOB')],
          },
        },
      ];
      for (const [type, filters] of [
        ['User', userFilters],
        ['Group', groupFilters],
      ] as const) {
        const all = await views(type);
        for (const filter of filters) {
          const page = await store.queryResources({ directoryId: d.id, type, filter, offset: 0, limit: 10 });
          const expected = [...all].filter(([, view]) => matchesFilter(view, filter)).map(([id]) => id);
          expect({ filter, ids: page.resources.map((r) => r.id).sort() }).toEqual({
            filter,
            ids: expected.sort(),
          });
        }
      }
      // The reference itself: Ann is in one group, the display comparison ignores case beyond ASCII.
      const users = await views('User');
      expect(matchesFilter(users.get(ann!.id)!, userFilters[2]!)).toBe(true);
      expect(matchesFilter(users.get(cy!.id)!, userFilters[8]!)).toBe(false);
    });

    it('keeps memberships, removes them with either side, and scopes them to the directory', async () => {
      const d = await directory(store);
      const a = await scimUser(store, d.id, d.tenantId, 'a');
      const b = await scimUser(store, d.id, d.tenantId, 'b');
      const g = await write(store, (tx) =>
        tx.insertResource({
          id: randomUUID(),
          directoryId: d.id,
          type: 'Group',
          name: 'G',
          externalId: null,
          data: {},
          createdAt: new Date(),
        }),
      );
      await write(store, (tx) =>
        tx.changeMembers(
          g.id,
          [
            { value: a.id, display: 'A' },
            { value: b.id, display: null },
          ],
          [],
        ),
      );
      await write(store, (tx) => tx.changeMembers(g.id, [{ value: a.id, display: 'again' }], []));
      expect(await store.listMembers(g.id)).toEqual(
        [
          { value: a.id, display: 'A' },
          { value: b.id, display: null },
        ].sort((x, y) => (x.value < y.value ? -1 : 1)),
      );
      expect((await store.listGroupsOfMember(d.id, a.id)).map((x) => x.id)).toEqual([g.id]);
      await write(store, (tx) => tx.changeMembers(g.id, [], [a.id]));
      expect((await store.listMembers(g.id)).map((m) => m.value)).toEqual([b.id]);
      await write(store, (tx) => tx.deleteResource(b.id));
      expect(await store.listMembers(g.id)).toEqual([]);
      await write(store, (tx) => tx.changeMembers(g.id, [{ value: a.id, display: null }], []));
      await write(store, (tx) => tx.deleteResource(g.id));
      expect(await store.listGroupsOfMember(d.id, a.id)).toEqual([]);
      expect(await store.findResource(d.id, 'Group', g.id)).toBeNull();
    });

    it('changes and replaces members, reporting what it added and removed', async () => {
      const d = await directory(store);
      const users = [];
      for (const name of ['a', 'b', 'c', 'd']) users.push(await scimUser(store, d.id, d.tenantId, name));
      const [a, b, c, e] = users.map((u) => u.id) as [string, string, string, string];
      const g = await write(store, (tx) =>
        tx.insertResource({
          id: randomUUID(),
          directoryId: d.id,
          type: 'Group',
          name: 'Replaced',
          externalId: null,
          data: {},
          createdAt: new Date(),
        }),
      );
      const sorted = (list: readonly string[]) => [...list].sort();
      const values = async () => (await store.listMembers(g.id)).map((m) => m.value);

      const first = await write(store, (tx) =>
        tx.changeMembers(
          g.id,
          [
            { value: a, display: 'A' },
            { value: b, display: null },
            { value: a, display: 'twice' },
          ],
          [],
        ),
      );
      expect({ added: sorted(first.added), removed: first.removed }).toEqual({
        added: sorted([a, b]),
        removed: [],
      });
      // Present members are not added again; removals compare ignoring case and skip non-members.
      const second = await write(store, (tx) =>
        tx.changeMembers(
          g.id,
          [
            { value: b, display: 'B' },
            { value: c, display: null },
          ],
          [a.toUpperCase(), e],
        ),
      );
      expect(second).toEqual({ added: [c], removed: [a] });
      expect(await values()).toEqual(sorted([b, c]));
      expect((await store.listMembers(g.id)).find((m) => m.value === b)?.display).toBeNull();

      const replaced = await write(store, (tx) =>
        tx.replaceMembers(g.id, [
          { value: c, display: 'kept' },
          { value: e, display: 'E' },
          { value: e, display: 'again' },
        ]),
      );
      expect(replaced).toEqual({ added: [e], removed: [b] });
      expect(await store.listMembers(g.id)).toEqual(
        [
          { value: c, display: null },
          { value: e, display: 'E' },
        ].sort((x, y) => (x.value < y.value ? -1 : 1)),
      );
      expect(
        await write(store, (tx) =>
          tx.replaceMembers(g.id, [
            { value: c, display: null },
            { value: e, display: null },
          ]),
        ),
      ).toEqual({
        added: [],
        removed: [],
      });
      const emptied = await write(store, (tx) => tx.replaceMembers(g.id, []));
      expect({ added: emptied.added, removed: sorted(emptied.removed) }).toEqual({
        added: [],
        removed: sorted([c, e]),
      });
      expect(await values()).toEqual([]);
      // A failed transaction leaves the members as they were.
      await expect(
        write(store, async (tx) => {
          await tx.replaceMembers(g.id, [{ value: a, display: null }]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await values()).toEqual([]);
    });

    it("lists a group's users with the exact total through member changes, deletions and rollbacks", async () => {
      const d = await directory(store);
      const users: string[] = [];
      for (const name of ['p', 'q', 'r', 's', 't'])
        users.push((await scimUser(store, d.id, d.tenantId, name)).id);
      const ids = [...users].sort();
      const g = await write(store, (tx) =>
        tx.insertResource({
          id: randomUUID(),
          directoryId: d.id,
          type: 'Group',
          name: 'Listed',
          externalId: null,
          data: {},
          createdAt: new Date(),
        }),
      );
      const inGroup = async (offset = 0, limit = 10, value = g.id, form: 'path' | 'value path' = 'path') => {
        const filter: ScimFilter =
          form === 'path'
            ? { op: 'eq', attribute: attr('groups', 'value'), value }
            : { op: 'has', attribute: attr('groups'), filter: { op: 'eq', attribute: attr('value'), value } };
        const page = await store.queryResources({ directoryId: d.id, type: 'User', filter, offset, limit });
        return { total: page.total, ids: page.resources.map((r) => r.id) };
      };
      expect(await inGroup()).toEqual({ total: 0, ids: [] });
      await write(store, (tx) =>
        tx.changeMembers(
          g.id,
          ids.slice(0, 4).map((value) => ({ value, display: null })),
          [],
        ),
      );
      expect(await inGroup()).toEqual({ total: 4, ids: ids.slice(0, 4) });
      expect(await inGroup(1, 2)).toEqual({ total: 4, ids: ids.slice(1, 3) });
      expect(await inGroup(4, 2)).toEqual({ total: 4, ids: [] });
      expect(await inGroup(0, 10, g.id.toUpperCase())).toEqual({ total: 4, ids: ids.slice(0, 4) });
      expect(await inGroup(0, 10, g.id, 'value path')).toEqual({ total: 4, ids: ids.slice(0, 4) });
      await write(store, (tx) => tx.changeMembers(g.id, [{ value: ids[4]!, display: null }], [ids[0]!]));
      expect(await inGroup()).toEqual({ total: 4, ids: ids.slice(1, 5) });
      await write(store, (tx) => tx.deleteResource(ids[2]!));
      expect(await inGroup()).toEqual({ total: 3, ids: [ids[1], ids[3], ids[4]] });
      await expect(
        write(store, async (tx) => {
          await tx.replaceMembers(g.id, []);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await inGroup()).toEqual({ total: 3, ids: [ids[1], ids[3], ids[4]] });
      await write(store, (tx) => tx.replaceMembers(g.id, [{ value: ids[0]!, display: null }]));
      expect(await inGroup()).toEqual({ total: 1, ids: [ids[0]] });
    });

    it('replaces the members of a group larger than one statement takes', async () => {
      const d = await directory(store);
      const g = await write(store, (tx) =>
        tx.insertResource({
          id: randomUUID(),
          directoryId: d.id,
          type: 'Group',
          name: 'Large',
          externalId: null,
          data: {},
          createdAt: new Date(),
        }),
      );
      // Members need not be users for the store: it keeps what the service checked.
      const ids = Array.from({ length: 2500 }, () => randomUUID()).sort();
      const all = ids.map((value) => ({ value, display: null }));
      expect((await write(store, (tx) => tx.replaceMembers(g.id, all))).added).toHaveLength(2500);
      const kept = all.filter((_, i) => i % 2 === 0);
      const change = await write(store, (tx) => tx.replaceMembers(g.id, kept));
      expect({ added: change.added, removed: [...change.removed].sort() }).toEqual({
        added: [],
        removed: ids.filter((_, i) => i % 2 === 1),
      });
      const removedMany = await write(store, (tx) =>
        tx.changeMembers(
          g.id,
          [],
          ids.filter((_, i) => i % 4 === 0),
        ),
      );
      expect(removedMany.removed).toHaveLength(625);
      expect((await store.listMembers(g.id)).map((m) => m.value)).toEqual(ids.filter((_, i) => i % 4 === 2));
    });

    describe('queries', () => {
      const rng = random(options.seed ?? 20260101);
      const words = ['ann', 'Bob', 'carol', 'ANNA', 'bo', '', 'x@acme.test', 'y@Acme.test', 'a_b%c', 'zed'];
      let directoryId = '';
      const records: ScimResourceRecord[] = [];
      const views = new Map<string, Record<string, unknown>>();

      function randomData(): Record<string, unknown> {
        const data: Record<string, unknown> = {};
        if (rng.next() < 0.7) data['displayName'] = rng.pick(words);
        if (rng.next() < 0.5) data['title'] = rng.pick([...words, 3, -1, 2.5, true, false, null]);
        if (rng.next() < 0.6) data['name'] = { givenName: rng.pick(words), familyName: rng.pick(words) };
        if (rng.next() < 0.8) {
          data['emails'] = Array.from({ length: rng.int(3) }, () => ({
            type: rng.pick(['work', 'home']),
            value: rng.pick(words),
            primary: rng.next() < 0.3,
          }));
        }
        if (rng.next() < 0.4) data['nickName'] = rng.pick(['x', 'y', 7, true]);
        if (rng.next() < 0.4)
          data['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'] = {
            employeeNumber: rng.pick(['1', '2', '10']),
            department: rng.pick(words),
          };
        return data;
      }

      const paths: AttributePath[] = [
        attr('username'),
        attr('displayname'),
        attr('title'),
        attr('nickname'),
        attr('name', 'givenname'),
        attr('name', 'familyname'),
        attr('emails'),
        attr('emails', 'value'),
        attr('emails', 'type'),
        attr('emails', 'primary'),
        attr('externalid'),
        attr('employeenumber', null, ENTERPRISE),
        attr('department', null, ENTERPRISE),
        attr('active'),
        attr('meta', 'created'),
      ];
      const values = [...words, 'A', 'b', 'acme', 1, 2.5, 3, true, false, null, '2026-01-01T00:00:05Z'];

      function randomFilter(depth: number): ScimFilter {
        const roll = rng.next();
        if (depth > 0 && roll < 0.25) {
          return {
            op: rng.pick(['and', 'or'] as const),
            filters: [randomFilter(depth - 1), randomFilter(depth - 1)],
          };
        }
        if (depth > 0 && roll < 0.35) return { op: 'not', filter: randomFilter(depth - 1) };
        if (roll < 0.45) {
          return {
            op: 'has',
            attribute: attr('emails'),
            filter: {
              op: rng.pick(['eq', 'co', 'sw', 'ne'] as const),
              attribute: attr(rng.pick(['type', 'value', 'primary'])),
              value: rng.pick(values),
            },
          };
        }
        const attribute = rng.pick(paths);
        if (roll < 0.55) return { op: 'pr', attribute };
        return {
          op: rng.pick(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const),
          attribute,
          value: rng.pick(values),
        };
      }

      beforeAll(async () => {
        const d = await directory(store);
        directoryId = d.id;
        for (let i = 0; i < 40; i++) {
          const userName = `${rng.pick(words) || 'u'}-${i}`;
          const created = new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000);
          const record = await scimUser(store, d.id, d.tenantId, userName, randomData(), created);
          let externalId: string | null = null;
          if (rng.next() < 0.5) {
            externalId = rng.pick(['Ext-1', 'ext-1', 'E2']);
            await write(store, (tx) => tx.updateResource(record.id, { externalId, updatedAt: created }));
          }
          const active = rng.next() < 0.7;
          if (!active)
            await write(store, (tx) =>
              tx.updateUser(record.id, { status: 'deactivated', updatedAt: created }),
            );
          const stored = (await store.findResource(d.id, 'User', record.id))!;
          records.push(stored);
          views.set(stored.id, filterView(stored, { active }));
        }
      });

      it('answers random filters exactly as matchesFilter does', async () => {
        const runs = options.filterRuns ?? 300;
        for (let i = 0; i < runs; i++) {
          const filter = randomFilter(2);
          const page = await store.queryResources({
            directoryId,
            type: 'User',
            filter,
            offset: 0,
            limit: 1000,
          });
          const expected = records
            .filter((r) => matchesFilter(views.get(r.id)!, filter))
            .map((r) => r.id)
            .sort();
          expect({ filter, ids: page.resources.map((r) => r.id).sort() }).toEqual({ filter, ids: expected });
          expect(page.total).toBe(expected.length);
        }
      });

      it('pages and sorts as compareForSort orders, then by id', async () => {
        for (const sortBy of [attr('username'), attr('meta', 'created'), attr('displayname')]) {
          for (const sortOrder of ['ascending', 'descending'] as const) {
            const direction = sortOrder === 'descending' ? -1 : 1;
            const expected = [...records]
              .sort(
                (a, b) =>
                  direction * compareForSort(views.get(a.id)!, views.get(b.id)!, sortBy) ||
                  (a.id < b.id ? -1 : 1),
              )
              .map((r) => r.id);
            const page = await store.queryResources({
              directoryId,
              type: 'User',
              sortBy,
              sortOrder,
              offset: 5,
              limit: 10,
            });
            expect(page.total).toBe(records.length);
            expect(page.resources.map((r) => r.id)).toEqual(expected.slice(5, 15));
          }
        }
        const all = await store.queryResources({ directoryId, type: 'User', offset: 0, limit: 1000 });
        expect(all.resources.map((r) => r.id)).toEqual(records.map((r) => r.id).sort());
        expect((await store.queryResources({ directoryId, type: 'Group', offset: 0, limit: 10 })).total).toBe(
          0,
        );
      });

      it('pages in id order with the exact total at every offset, filtered or not', async () => {
        for (let i = 0; i < 12; i++) {
          const filter = i % 3 === 0 ? undefined : randomFilter(1);
          const expected = records
            .filter((r) => !filter || matchesFilter(views.get(r.id)!, filter))
            .map((r) => r.id)
            .sort();
          const n = expected.length;
          for (const offset of [0, 1, 7, n >> 1, (n >> 1) + 1, n - 8, n - 5, n - 3, n - 1, n, n + 3]) {
            if (offset < 0) continue;
            const page = await store.queryResources({
              directoryId,
              type: 'User',
              ...(filter ? { filter } : {}),
              offset,
              limit: 5,
            });
            expect({ filter, offset, total: page.total }).toEqual({ filter, offset, total: expected.length });
            expect(page.resources.map((r) => r.id)).toEqual(expected.slice(offset, offset + 5));
          }
        }
      });

      it('keeps the total of an unfiltered list exact through creates, deletes and rollbacks', async () => {
        const d = await directory(store);
        const ids: string[] = [];
        for (let i = 0; i < 9; i++) ids.push((await scimUser(store, d.id, d.tenantId, `count-${i}`)).id);
        const group = await write(store, (tx) =>
          tx.insertResource({
            id: randomUUID(),
            directoryId: d.id,
            type: 'Group',
            name: 'Counted',
            externalId: null,
            data: {},
            createdAt: at('2026-01-01T00:00:00Z'),
          }),
        );
        const [gone] = ids.splice(3, 1);
        await write(store, (tx) => tx.deleteResource(gone!));
        await expect(
          write(store, async (tx) => {
            await tx.deleteResource(ids[0]!);
            await tx.deleteResource(group.id);
            await tx.insertResource({
              id: randomUUID(),
              directoryId: d.id,
              type: 'User',
              name: 'never-counted',
              externalId: null,
              data: {},
              createdAt: at('2026-01-01T00:00:00Z'),
            });
            throw new Error('rolled back');
          }),
        ).rejects.toThrow('rolled back');
        ids.sort();
        for (const offset of [0, 1, 2, 4, 5, 6, 7, 8, 11]) {
          const page = await store.queryResources({ directoryId: d.id, type: 'User', offset, limit: 3 });
          expect({ offset, total: page.total }).toEqual({ offset, total: 8 });
          expect(page.resources.map((r) => r.id)).toEqual(ids.slice(offset, offset + 3));
        }
        const groups = await store.queryResources({ directoryId: d.id, type: 'Group', offset: 0, limit: 3 });
        expect({ total: groups.total, ids: groups.resources.map((r) => r.id) }).toEqual({
          total: 1,
          ids: [group.id],
        });
        const emptied = await store.queryResources({ directoryId: d.id, type: 'Group', offset: 1, limit: 3 });
        expect(emptied).toEqual({ total: 1, resources: [] });
      });

      it('filters on the data a change wrote, not on what it replaced', async () => {
        const d = await directory(store);
        const record = await scimUser(store, d.id, d.tenantId, 'changing', {
          title: 'Old',
          emails: [{ value: 'a@x.test', type: 'work' }, { value: 'b@x.test' }],
          nickName: 'Same',
        });
        const ids = async (filter: ScimFilter) =>
          (
            await store.queryResources({ directoryId: d.id, type: 'User', filter, offset: 0, limit: 10 })
          ).resources.map((r) => r.id);
        const data = {
          title: 'New',
          emails: [{ value: 'b@x.test' }, { value: 'b@x.test', type: 'home' }],
          nickName: 'Same',
        };
        await write(store, (tx) => tx.updateResource(record.id, { data, updatedAt: new Date() }));
        expect(await ids({ op: 'eq', attribute: attr('title'), value: 'old' })).toEqual([]);
        expect(await ids({ op: 'eq', attribute: attr('title'), value: 'new' })).toEqual([record.id]);
        expect(await ids({ op: 'eq', attribute: attr('nickname'), value: 'same' })).toEqual([record.id]);
        expect(await ids({ op: 'eq', attribute: attr('emails', 'value'), value: 'a@x.test' })).toEqual([]);
        expect(await ids({ op: 'eq', attribute: attr('emails', 'type'), value: 'work' })).toEqual([]);
        expect(await ids({ op: 'eq', attribute: attr('emails', 'type'), value: 'home' })).toEqual([
          record.id,
        ]);
        const has = (type: string, value: string): ScimFilter => ({
          op: 'has',
          attribute: attr('emails'),
          filter: {
            op: 'and',
            filters: [
              { op: 'eq', attribute: attr('type'), value: type },
              { op: 'eq', attribute: attr('value'), value },
            ],
          },
        });
        expect(await ids(has('home', 'b@x.test'))).toEqual([record.id]);
        expect(await ids(has('work', 'b@x.test'))).toEqual([]);
        expect((await store.findResource(d.id, 'User', record.id))!.data).toEqual(data);
      });
    });
  });
}
