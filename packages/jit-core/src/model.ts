/** The records the engine reads and writes. Stores persist them; the engine never sees SQL. */

export type UserStatus = 'active' | 'deactivated';

/** Who created an account: a login (`jit`), the customer's directory (`scim`), or an administrator. */
export type UserSource = 'jit' | 'scim' | 'manual';

/** Who granted a role. Role sync at login only adds and removes `jit` grants. */
export type GrantSource = 'jit' | 'scim' | 'manual';

export interface RoleGrant {
  readonly role: string;
  readonly source: GrantSource;
}

export interface UserRecord {
  readonly id: string;
  readonly tenantId: string;
  /** Normalised with `normaliseEmail`; unique per tenant. */
  readonly email: string;
  readonly status: UserStatus;
  readonly source: UserSource;
  /** Mapped profile fields (firstName, lastName, displayName, ...) as the connection's mapping names them. */
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly roles: readonly RoleGrant[];
  /** The directory's id for this person (SCIM `externalId`), when a directory provisioned them. */
  readonly externalId: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly lastLoginAt: Date | null;
  readonly deactivatedAt: Date | null;
}

/** The link from an identity provider's stable subject to a local user: unique by (connection, subject). */
export interface IdentityRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly connectionId: string;
  readonly subject: string;
  readonly userId: string;
  readonly createdAt: Date;
}

export type AuditAction =
  'created' | 'linked' | 'updated' | 'unchanged' | 'denied' | 'deactivated' | 'reactivated' | 'deleted';

export type AuditActor = 'jit' | 'scim' | 'admin' | 'system';

/** One field that a decision changed. Values are profile data, never secrets. */
export interface Change {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
}

export interface AuditEvent {
  readonly id: string;
  readonly at: Date;
  readonly tenantId: string;
  readonly actor: AuditActor;
  readonly action: AuditAction;
  readonly connectionId: string | null;
  readonly subject: string | null;
  readonly userId: string | null;
  /** The `JitError` code of a denial, or a short reason for lifecycle events (e.g. `dormant`). */
  readonly reason: string | null;
  readonly changes: readonly Change[];
}

/** Role names of a user, from every source, each once and sorted. */
export function roleNames(user: Pick<UserRecord, 'roles'>): string[] {
  return [...new Set(user.roles.map((g) => g.role))].sort();
}
