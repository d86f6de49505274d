import {
  compareForSort,
  filterView,
  matchesFilter,
  type DirectoryRecord,
  type DirectoryStore,
  type DirectoryTokenRecord,
  type DirectoryTransaction,
  type GroupMember,
  type NewScimResource,
  type ResourcePage,
  type ResourceQuery,
  type ScimResourcePatch,
  type ScimResourceRecord,
  type ScimResourceType,
} from './directory.js';
import { StoreConflictError, StoreError } from './errors.js';
import { MemoryStore } from './memory-store.js';

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const nameKey = (directoryId: string, userName: string) =>
  `${directoryId.length}:${directoryId}${userName.toLowerCase()}`;

function freezeResource(record: ScimResourceRecord): ScimResourceRecord {
  return Object.freeze({
    ...record,
    data: Object.freeze(structuredClone(record.data) as Record<string, unknown>),
  });
}

/**
 * `MemoryStore` with the directory part of the contract. Filters are evaluated with `matchesFilter`
 * over every resource of the directory, which is fine for tests and small demos, not for scale.
 */
export class MemoryDirectoryStore extends MemoryStore implements DirectoryStore {
  protected readonly directories = new Map<string, DirectoryRecord>();
  protected readonly tokens = new Map<string, DirectoryTokenRecord>();
  protected readonly resources = new Map<string, ScimResourceRecord>();
  protected readonly userNames = new Map<string, string>();
  /** groupId → (memberId → member) */
  protected readonly members = new Map<string, Map<string, GroupMember>>();

  async findDirectory(directoryId: string): Promise<DirectoryRecord | null> {
    return this.directories.get(directoryId) ?? null;
  }

  async listDirectories(tenantId: string): Promise<DirectoryRecord[]> {
    return [...this.directories.values()].filter((d) => d.tenantId === tenantId).sort(byId);
  }

  async findTokenByHash(hash: string): Promise<DirectoryTokenRecord | null> {
    for (const token of this.tokens.values()) if (token.hash === hash) return token;
    return null;
  }

  async findTokenWithDirectory(
    hash: string,
  ): Promise<{ token: DirectoryTokenRecord; directory: DirectoryRecord } | null> {
    const token = await this.findTokenByHash(hash);
    const directory = token ? this.directories.get(token.directoryId) : undefined;
    return token && directory ? { token, directory } : null;
  }

  async listTokens(directoryId: string): Promise<DirectoryTokenRecord[]> {
    return [...this.tokens.values()].filter((t) => t.directoryId === directoryId).sort(byId);
  }

  async findResource(
    directoryId: string,
    type: ScimResourceType,
    id: string,
  ): Promise<ScimResourceRecord | null> {
    const found = this.resources.get(id);
    return found && found.directoryId === directoryId && found.type === type ? found : null;
  }

  async findUserByUserName(directoryId: string, userName: string): Promise<ScimResourceRecord | null> {
    const id = this.userNames.get(nameKey(directoryId, userName));
    return id === undefined ? null : (this.resources.get(id) ?? null);
  }

  async findResourceOfUser(userId: string): Promise<ScimResourceRecord | null> {
    const found = this.resources.get(userId);
    return found && found.type === 'User' ? found : null;
  }

  protected viewOf(record: ScimResourceRecord): Record<string, unknown> {
    if (record.type === 'User') {
      const groups: ScimResourceRecord[] = [];
      for (const [groupId, members] of this.members) {
        const group = this.resources.get(groupId);
        if (group && group.directoryId === record.directoryId && members.has(record.id)) groups.push(group);
      }
      return filterView(record, {
        active: this.users.get(record.id)?.status !== 'deactivated',
        groups,
      });
    }
    return filterView(record, { members: [...(this.members.get(record.id)?.values() ?? [])] });
  }

  async queryResources(query: ResourceQuery): Promise<ResourcePage> {
    let found = [...this.resources.values()]
      .filter((r) => r.directoryId === query.directoryId && r.type === query.type)
      .map((record) => ({ record, view: this.viewOf(record) }));
    if (query.filter) {
      const filter = query.filter;
      found = found.filter(({ view }) => matchesFilter(view, filter));
    }
    const sortBy = query.sortBy;
    const direction = query.sortOrder === 'descending' ? -1 : 1;
    found.sort(
      (a, b) => (sortBy ? direction * compareForSort(a.view, b.view, sortBy) : 0) || byId(a.record, b.record),
    );
    return {
      total: found.length,
      resources: found
        .slice(query.offset, query.offset + query.limit)
        .map((f) =>
          f.record.type === 'User'
            ? Object.freeze({ ...f.record, active: f.view['active'] === true })
            : f.record,
        ),
    };
  }

  async listMembers(groupId: string): Promise<GroupMember[]> {
    return [...(this.members.get(groupId)?.values() ?? [])].sort((a, b) =>
      a.value < b.value ? -1 : a.value > b.value ? 1 : 0,
    );
  }

  async listGroupsOfMember(directoryId: string, memberId: string): Promise<ScimResourceRecord[]> {
    const groups: ScimResourceRecord[] = [];
    for (const [groupId, members] of this.members) {
      const group = this.resources.get(groupId);
      if (group && group.directoryId === directoryId && members.has(memberId)) groups.push(group);
    }
    return groups.sort(byId);
  }

  directoryTransaction<T>(work: (tx: DirectoryTransaction) => Promise<T>): Promise<T> {
    return this.transaction(() => work(this.directoryTx));
  }

  private setResource(record: ScimResourceRecord | null, id: string): void {
    const previous = this.resources.get(id) ?? null;
    const previousKey = previous?.type === 'User' ? nameKey(previous.directoryId, previous.name) : null;
    const nextKey = record?.type === 'User' ? nameKey(record.directoryId, record.name) : null;
    if (record) this.resources.set(id, record);
    else this.resources.delete(id);
    if (previousKey !== nextKey) {
      if (previousKey) this.userNames.delete(previousKey);
      if (nextKey) this.userNames.set(nextKey, id);
    }
    this.recordUndo(() => {
      if (previous) this.resources.set(id, previous);
      else this.resources.delete(id);
      if (previousKey !== nextKey) {
        if (nextKey) this.userNames.delete(nextKey);
        if (previousKey) this.userNames.set(previousKey, id);
      }
    });
  }

  private setMembership(groupId: string, members: Map<string, GroupMember> | null): void {
    const previous = this.members.get(groupId);
    if (members && members.size) this.members.set(groupId, members);
    else this.members.delete(groupId);
    this.recordUndo(() => {
      if (previous) this.members.set(groupId, previous);
      else this.members.delete(groupId);
    });
  }

  protected readonly directoryTx: DirectoryTransaction = {
    ...this.tx,
    findDirectory: (id) => this.findDirectory(id),
    listDirectories: (t) => this.listDirectories(t),
    findTokenByHash: (h) => this.findTokenByHash(h),
    findTokenWithDirectory: (h) => this.findTokenWithDirectory(h),
    listTokens: (d) => this.listTokens(d),
    findResource: (d, t, id) => this.findResource(d, t, id),
    // Transactions run one at a time: a read inside one is already as good as a lock.
    lockResource: (d, t, id) => this.findResource(d, t, id),
    shareResources: async (d, t, ids) => {
      const found: ScimResourceRecord[] = [];
      for (const id of new Set(ids)) {
        const record = await this.findResource(d, t, id);
        if (record) found.push(record);
      }
      return found;
    },
    findUserByUserName: (d, u) => this.findUserByUserName(d, u),
    findResourceOfUser: (u) => this.findResourceOfUser(u),
    queryResources: (q) => this.queryResources(q),
    listMembers: (g) => this.listMembers(g),
    listGroupsOfMember: (d, m) => this.listGroupsOfMember(d, m),

    insertDirectory: async (directory) => {
      if (this.directories.has(directory.id)) throw new StoreConflictError('other');
      const record = Object.freeze({ ...directory });
      this.directories.set(record.id, record);
      this.recordUndo(() => this.directories.delete(record.id));
      return record;
    },

    insertToken: async (token) => {
      if (this.tokens.has(token.id) || [...this.tokens.values()].some((t) => t.hash === token.hash)) {
        throw new StoreConflictError('other');
      }
      const record: DirectoryTokenRecord = Object.freeze({ ...token, revokedAt: null });
      this.tokens.set(record.id, record);
      this.recordUndo(() => this.tokens.delete(record.id));
      return record;
    },

    revokeToken: async (tokenId, at) => {
      const current = this.tokens.get(tokenId);
      if (!current || current.revokedAt) return;
      this.tokens.set(tokenId, Object.freeze({ ...current, revokedAt: at }));
      this.recordUndo(() => this.tokens.set(tokenId, current));
    },

    insertResource: async (input: NewScimResource) => {
      if (this.resources.has(input.id)) throw new StoreConflictError('other');
      if (input.type === 'User' && this.userNames.has(nameKey(input.directoryId, input.name))) {
        throw new StoreConflictError('other');
      }
      const record = freezeResource({ ...input, version: 1, updatedAt: input.createdAt });
      this.setResource(record, record.id);
      return record;
    },

    updateResource: async (id: string, patch: ScimResourcePatch) => {
      const current = this.resources.get(id);
      if (!current) throw new StoreError(`updateResource: no resource "${id}"`);
      if (current.type === 'User' && patch.name !== undefined) {
        const holder = this.userNames.get(nameKey(current.directoryId, patch.name));
        if (holder !== undefined && holder !== id) throw new StoreConflictError('other');
      }
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const record = freezeResource({
        ...current,
        ...defined,
        version: current.version + 1,
      } as ScimResourceRecord);
      this.setResource(record, id);
      return record;
    },

    deleteResource: async (id: string) => {
      if (!this.resources.has(id)) return;
      this.setResource(null, id);
      if (this.members.has(id)) this.setMembership(id, null);
      for (const [groupId, members] of [...this.members]) {
        if (!members.has(id)) continue;
        const next = new Map(members);
        next.delete(id);
        this.setMembership(groupId, next);
      }
    },

    changeMembers: async (groupId, add, remove) => {
      const stored = this.members.get(groupId);
      const next = new Map(stored ?? []);
      const removed: string[] = [];
      const gone = new Set(remove.map((value) => value.toLowerCase()));
      if (gone.size) {
        for (const value of next.keys()) {
          if (!gone.has(value.toLowerCase())) continue;
          next.delete(value);
          removed.push(value);
        }
      }
      const added: string[] = [];
      for (const member of add) {
        if (next.has(member.value)) continue;
        next.set(member.value, Object.freeze({ ...member }));
        added.push(member.value);
      }
      if (added.length || removed.length) this.setMembership(groupId, next);
      return { added, removed };
    },

    replaceMembers: async (groupId, members) => {
      const stored = this.members.get(groupId) ?? new Map<string, GroupMember>();
      const next = new Map<string, GroupMember>();
      const added: string[] = [];
      for (const member of members) {
        if (next.has(member.value)) continue;
        const kept = stored.get(member.value);
        next.set(member.value, kept ?? Object.freeze({ ...member }));
        if (!kept) added.push(member.value);
      }
      const removed = [...stored.keys()].filter((value) => !next.has(value));
      if (added.length || removed.length) this.setMembership(groupId, next);
      return { added, removed };
    },
  };
}
