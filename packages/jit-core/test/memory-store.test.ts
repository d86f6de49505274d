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
