import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { runStoreConformance } from '../src/testing/index.js';

/** Reads the memory store's maps directly, as a SQL store's suite reads its tables. */
class InspectableMemoryStore extends MemoryStore {
  count(table: 'users' | 'identities' | 'audit', tenantId?: string): number {
    const rows =
      table === 'users'
        ? [...this.users.values()]
        : table === 'identities'
          ? [...this.identities.values()]
          : this.audit;
    return rows.filter((row) => tenantId === undefined || row.tenantId === tenantId).length;
  }
}

let current = new InspectableMemoryStore();

runStoreConformance({
  name: 'memory',
  store: () => current,
  db: {
    count: async (table, where) => current.count(table, where?.tenantId),
    reset: async () => {
      current = new InspectableMemoryStore();
    },
  },
  concurrency: 100,
});

describe('memory store user lookups by email and external id', () => {
  const at = new Date('2026-01-01T00:00:00Z');
  const user = (id: string, tenantId: string, email: string, externalId: string | null) => ({
    id,
    tenantId,
    email,
    status: 'active' as const,
    source: 'scim' as const,
    attributes: {},
    roles: [],
    externalId,
    createdAt: at,
    lastLoginAt: null,
  });

  it('filters listUsers and countUsers by exact email and external id, across tenants unless one is given', async () => {
    const store = new MemoryStore();
    await store.transaction(async (tx) => {
      await tx.insertUser(user('u1', 'a', 'ann@acme.test', 'E1'));
      await tx.insertUser(user('u2', 'b', 'ann@acme.test', 'E2'));
      await tx.insertUser(user('u3', 'a', 'bob@acme.test', 'E2'));
    });
    const ids = (users: { id: string }[]) => users.map((u) => u.id);
    expect(ids(await store.listUsers({ email: 'ann@acme.test', limit: 10 }))).toEqual(['u1', 'u2']);
    expect(ids(await store.listUsers({ email: 'ann@acme.test', tenantId: 'b', limit: 10 }))).toEqual(['u2']);
    expect(ids(await store.listUsers({ email: 'ANN@acme.test', limit: 10 }))).toEqual([]);
    expect(ids(await store.listUsers({ externalId: 'E2', limit: 10 }))).toEqual(['u2', 'u3']);
    expect(ids(await store.listUsers({ externalId: 'E2', tenantId: 'a', limit: 10 }))).toEqual(['u3']);
    expect(await store.countUsers({ externalId: 'E1' })).toEqual({ active: 1, deactivated: 0 });
  });
});
