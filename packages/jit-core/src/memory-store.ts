import { StoreConflictError, StoreError } from './errors.js';
import type { AuditEvent, IdentityRecord, UserRecord, UserStatus } from './model.js';
import type {
  AuditQuery,
  IdentityStore,
  IdentityWithUser,
  NewIdentity,
  NewUser,
  SingleUse,
  StoreTransaction,
  UserPatch,
  UserQuery,
} from './store.js';

const key = (a: string, b: string) => `${a.length}:${a}${b}`;
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function matchesUser(user: UserRecord, query: Omit<UserQuery, 'afterId' | 'limit'>): boolean {
  return (
    (query.tenantId === undefined || user.tenantId === query.tenantId) &&
    (query.status === undefined || user.status === query.status) &&
    (query.source === undefined || user.source === query.source) &&
    (query.email === undefined || user.email === query.email) &&
    (query.externalId === undefined || user.externalId === query.externalId) &&
    (query.notSeenSince === undefined || (user.lastLoginAt ?? user.createdAt) < query.notSeenSince)
  );
}

function freezeUser(user: UserRecord): UserRecord {
  return Object.freeze({
    ...user,
    attributes: Object.freeze({ ...user.attributes }),
    roles: Object.freeze(user.roles.map((g) => Object.freeze({ ...g }))),
  });
}

/**
 * An in-process store for tests, demos and single-process tools. Transactions run one at a time
 * (a queue), and a failed transaction's writes are undone in reverse order, so it honours the same
 * contract as a database store. Records handed out are frozen.
 */
export class MemoryStore implements IdentityStore {
  protected readonly users = new Map<string, UserRecord>();
  protected readonly usersByEmail = new Map<string, string>();
  protected readonly identities = new Map<string, IdentityRecord>();
  protected readonly identitiesByUser = new Map<string, Set<string>>();
  protected readonly audit: AuditEvent[] = [];
  protected queue: Promise<unknown> = Promise.resolve();
  protected undo: Array<() => void> | null = null;

  async findUserById(userId: string): Promise<UserRecord | null> {
    return this.users.get(userId) ?? null;
  }

  async findUserByEmail(tenantId: string, email: string): Promise<UserRecord | null> {
    const id = this.usersByEmail.get(key(tenantId, email));
    return id === undefined ? null : (this.users.get(id) ?? null);
  }

  async findIdentity(connectionId: string, subject: string): Promise<IdentityWithUser | null> {
    const identity = this.identities.get(key(connectionId, subject));
    if (!identity) return null;
    const user = this.users.get(identity.userId);
    return user ? { identity, user } : null;
  }

  async listIdentitiesOfUser(userId: string): Promise<IdentityRecord[]> {
    const keys = this.identitiesByUser.get(userId);
    return keys ? [...keys].map((k) => this.identities.get(k)!) : [];
  }

  async findDormantUsers(
    tenantId: string,
    cutoff: Date,
    page: { afterId?: string; limit: number },
  ): Promise<UserRecord[]> {
    const found: UserRecord[] = [];
    for (const user of this.users.values()) {
      if (user.tenantId !== tenantId || user.status !== 'active') continue;
      if (page.afterId !== undefined && user.id <= page.afterId) continue;
      if ((user.lastLoginAt ?? user.createdAt) < cutoff) found.push(user);
    }
    return found.sort(byId).slice(0, page.limit);
  }

  async listUsers(query: UserQuery): Promise<UserRecord[]> {
    const found = [...this.users.values()].filter(
      (u) => matchesUser(u, query) && (query.afterId === undefined || u.id > query.afterId),
    );
    return found.sort(byId).slice(0, query.limit);
  }

  async countUsers(query: Omit<UserQuery, 'afterId' | 'limit'>): Promise<Record<UserStatus, number>> {
    const counts: Record<UserStatus, number> = { active: 0, deactivated: 0 };
    for (const user of this.users.values()) if (matchesUser(user, query)) counts[user.status]++;
    return counts;
  }

  async listAuditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const events = this.audit.filter(
      (e) =>
        (query.tenantId === undefined || e.tenantId === query.tenantId) &&
        (query.userId === undefined || e.userId === query.userId) &&
        (query.since === undefined || e.at >= query.since) &&
        (query.afterId === undefined || e.id > query.afterId),
    );
    return events.sort(byId).slice(0, query.limit);
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const undo: Array<() => void> = [];
      this.undo = undo;
      try {
        return await work(this.tx);
      } catch (error) {
        for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
        throw error;
      } finally {
        this.undo = null;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  protected recordUndo(step: () => void): void {
    if (!this.undo) throw new StoreError('MemoryStore writes must happen inside transaction().');
    this.undo.push(step);
  }

  protected putUser(user: UserRecord): void {
    const previous = this.users.get(user.id);
    this.users.set(user.id, user);
    const emailKey = key(user.tenantId, user.email);
    const previousEmailKey = previous ? key(previous.tenantId, previous.email) : null;
    if (previousEmailKey !== emailKey) {
      if (previousEmailKey) this.usersByEmail.delete(previousEmailKey);
      this.usersByEmail.set(emailKey, user.id);
    }
    this.recordUndo(() => {
      if (previous) {
        this.users.set(user.id, previous);
        if (previousEmailKey !== emailKey) {
          this.usersByEmail.delete(emailKey);
          this.usersByEmail.set(previousEmailKey!, previous.id);
        }
      } else {
        this.users.delete(user.id);
        this.usersByEmail.delete(emailKey);
      }
    });
  }

  /** Single-use records: expiry (ms) by connection and key. */
  protected readonly singleUses = new Map<string, number>();

  async pruneSingleUse(before: Date, limit = 10_000): Promise<number> {
    let pruned = 0;
    for (const [k, expiresAt] of this.singleUses) {
      if (pruned >= limit) break;
      if (expiresAt < before.getTime()) {
        this.singleUses.delete(k);
        pruned++;
      }
    }
    return pruned;
  }

  protected readonly tx: StoreTransaction = {
    findUserById: (id) => this.findUserById(id),
    findUserByEmail: (t, e) => this.findUserByEmail(t, e),
    findIdentity: (c, s) => this.findIdentity(c, s),
    listIdentitiesOfUser: (u) => this.listIdentitiesOfUser(u),
    findDormantUsers: (t, c, p) => this.findDormantUsers(t, c, p),
    listUsers: (q) => this.listUsers(q),
    countUsers: (q) => this.countUsers(q),
    listAuditEvents: (q) => this.listAuditEvents(q),

    useOnce: async (use: SingleUse) => {
      const k = key(use.connectionId, use.key);
      const previous = this.singleUses.get(k);
      if (previous !== undefined && previous >= use.at.getTime()) return false;
      this.singleUses.set(k, use.expiresAt.getTime());
      this.recordUndo(() => {
        if (previous === undefined) this.singleUses.delete(k);
        else this.singleUses.set(k, previous);
      });
      return true;
    },

    insertUser: async (input: NewUser) => {
      if (this.usersByEmail.has(key(input.tenantId, input.email))) throw new StoreConflictError('email');
      if (this.users.has(input.id)) throw new StoreConflictError('other');
      const user = freezeUser({ ...input, updatedAt: input.createdAt, deactivatedAt: null });
      this.putUser(user);
      return user;
    },

    updateUser: async (userId: string, patch: UserPatch) => {
      const current = this.users.get(userId);
      if (!current) throw new StoreError(`updateUser: no user "${userId}"`);
      if (patch.email !== undefined && patch.email !== current.email) {
        const holder = this.usersByEmail.get(key(current.tenantId, patch.email));
        if (holder !== undefined && holder !== userId) throw new StoreConflictError('email');
      }
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const user = freezeUser({ ...current, ...defined } as UserRecord);
      this.putUser(user);
      return user;
    },

    insertIdentity: async (input: NewIdentity) => {
      const k = key(input.connectionId, input.subject);
      if (this.identities.has(k)) throw new StoreConflictError('identity');
      const identity: IdentityRecord = Object.freeze({ ...input });
      this.identities.set(k, identity);
      let owned = this.identitiesByUser.get(input.userId);
      if (!owned) this.identitiesByUser.set(input.userId, (owned = new Set()));
      owned.add(k);
      const set = owned;
      this.recordUndo(() => {
        this.identities.delete(k);
        set.delete(k);
      });
      return identity;
    },

    acquireSeat: async (tenantId: string, limit: number) => {
      // Transactions are serial here, so counting is enough.
      let active = 0;
      for (const user of this.users.values()) {
        if (user.tenantId === tenantId && user.status === 'active') active++;
      }
      return active < limit;
    },

    appendAudit: async (event: AuditEvent) => {
      this.audit.push(event);
      this.recordUndo(() => {
        const i = this.audit.lastIndexOf(event);
        this.audit.splice(i >= 0 ? i : this.audit.length - 1, 1);
      });
    },
  };
}
