import type { AuditEvent, IdentityRecord, RoleGrant, UserRecord, UserStatus } from './model.js';

/**
 * The contract every store implements (memory, TypeORM on SQLite/PostgreSQL/MariaDB, or an app's own).
 * Rules, checked by `runStoreConformance` from `@jit-sso/core/testing`:
 *
 * - "Not found" is `null`, never an exception.
 * - Emails arrive normalised; the store compares them byte for byte and never relies on collation.
 * - `insertUser` throws `StoreConflictError('email')` when (tenantId, email) is taken, and
 *   `insertIdentity` throws `StoreConflictError('identity')` when (connectionId, subject) is taken.
 *   Uniqueness comes from database constraints, so it holds across processes.
 * - `transaction(fn)` commits when `fn` resolves and rolls everything back when it throws, then
 *   rethrows the same error. Infrastructure failures surface as `StoreError` (code `STORE_FAILURE`).
 * - `acquireSeat` must serialise concurrent callers for one tenant until the transaction ends, so
 *   that a seat limit holds under concurrent first logins.
 */
export interface IdentityStore extends StoreReader {
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Deletes single-use records that expired before `before`, at most `limit`; resolves to how many. */
  pruneSingleUse(before: Date, limit?: number): Promise<number>;
}

export interface StoreReader {
  findUserById(userId: string): Promise<UserRecord | null>;
  findUserByEmail(tenantId: string, email: string): Promise<UserRecord | null>;
  /** The identity (connectionId, subject) and the user it links to. */
  findIdentity(connectionId: string, subject: string): Promise<IdentityWithUser | null>;
  listIdentitiesOfUser(userId: string): Promise<IdentityRecord[]>;
  /**
   * Active users of a tenant whose last login (or creation, for users who never logged in) is before
   * `cutoff`, ordered by id, at most `limit` of them with an id greater than `afterId`.
   */
  findDormantUsers(
    tenantId: string,
    cutoff: Date,
    page: { afterId?: string; limit: number },
  ): Promise<UserRecord[]>;
  /** Users matching `query`, ordered by id, at most `limit` with an id greater than `afterId`. */
  listUsers(query: UserQuery): Promise<UserRecord[]>;
  /** Number of users per status matching `query` (paging fields ignored). */
  countUsers(query: Omit<UserQuery, 'afterId' | 'limit'>): Promise<Record<UserStatus, number>>;
  /** Audit events ordered by id (ids are time-ordered UUIDv7), at most `limit` after `afterId`. */
  listAuditEvents(query: AuditQuery): Promise<AuditEvent[]>;
}

export interface UserQuery {
  tenantId?: string;
  status?: UserStatus;
  source?: UserRecord['source'];
  /** Exact match on the normalised email (across tenants unless `tenantId` is set). */
  email?: string;
  /** Exact match on the directory's id for the person. */
  externalId?: string;
  /** Users whose last login (or creation, when they never logged in) is before this. */
  notSeenSince?: Date;
  afterId?: string;
  limit: number;
}

export interface IdentityWithUser {
  identity: IdentityRecord;
  user: UserRecord;
}

export interface AuditQuery {
  tenantId?: string;
  userId?: string;
  since?: Date;
  afterId?: string;
  limit: number;
}

export interface NewUser {
  id: string;
  tenantId: string;
  email: string;
  status: UserStatus;
  source: UserRecord['source'];
  attributes: Record<string, unknown>;
  roles: RoleGrant[];
  externalId: string | null;
  createdAt: Date;
  lastLoginAt: Date | null;
}

export interface NewIdentity {
  id: string;
  tenantId: string;
  connectionId: string;
  subject: string;
  userId: string;
  createdAt: Date;
}

export interface UserPatch {
  email?: string;
  status?: UserStatus;
  attributes?: Record<string, unknown>;
  roles?: RoleGrant[];
  externalId?: string | null;
  lastLoginAt?: Date | null;
  deactivatedAt?: Date | null;
  updatedAt: Date;
}

/** A protocol message that may be used once (a SAML assertion), recorded until it expires. */
export interface SingleUse {
  connectionId: string;
  /** A fixed-length digest of the message's identity (SHA-256, base64url). */
  key: string;
  /** Until when the message would be accepted; after it, the record may be pruned or taken again. */
  expiresAt: Date;
  /** Now, by the caller's clock: a record that expired before this is taken over. */
  at: Date;
}

export interface StoreTransaction extends StoreReader {
  /**
   * Records a single use of a message in this transaction: true the first time, false while an
   * earlier record of the same (connection, key) has not expired. Concurrent transactions with the
   * same key wait for each other; exactly one of them gets true, and each other gets false or fails
   * with `StoreConflictError` (a deadlock victim, to retry: the retry reads false).
   */
  useOnce(use: SingleUse): Promise<boolean>;
  insertUser(user: NewUser): Promise<UserRecord>;
  updateUser(userId: string, patch: UserPatch): Promise<UserRecord>;
  insertIdentity(identity: NewIdentity): Promise<IdentityRecord>;
  /** True when the tenant has fewer than `limit` active users; holds the tenant's seat lock until the end. */
  acquireSeat(tenantId: string, limit: number): Promise<boolean>;
  appendAudit(event: AuditEvent): Promise<void>;
}
