// Deactivation, reactivation, dormant cleanup and seat admission: the user's life after the first login.

import { auditEvent } from './audit.js';
import type { Tenant } from './connection.js';
import { SeatLimitReachedError, UserNotFoundError } from './errors.js';
import type { AuditActor, AuditEvent, UserRecord } from './model.js';
import type { IdentityStore, StoreTransaction } from './store.js';
import type { RunInTransaction } from './transaction.js';

export interface DormantCleanupOptions {
  tenantId: string;
  /** Users whose last login (or creation) is before this are dormant. */
  notSeenSince: Date;
  /** Default true: report without changing anything. */
  dryRun?: boolean;
  /** Users holding any of these roles are kept. */
  excludeRoles?: readonly string[];
  batchSize?: number;
  actor?: AuditActor;
  /** Called for each dormant user found (before it is deactivated). */
  onUser?: (user: UserRecord) => void;
}

export interface DormantCleanupReport {
  readonly dryRun: boolean;
  readonly deactivated: number;
  readonly kept: number;
}

/** The tenants' seat limits, for other writers of users (such as a SCIM directory). */
export interface SeatAdmission {
  /**
   * Admits one more active user to the tenant inside the caller's transaction (a creation or a
   * reactivation): throws `SeatLimitReachedError` when the tenant's seat limit is reached, else
   * holds the tenant's seat lock until `tx` ends.
   */
  admitUser(tx: StoreTransaction, tenantId: string): Promise<void>;
}

/** What the lifecycle needs from the provisioner that runs it. */
export interface LifecycleSettings {
  readonly store: IdentityStore;
  readonly now: () => Date;
  readonly tenantOf: (id: string) => Tenant | Promise<Tenant>;
  readonly inTransaction: RunInTransaction;
  /** Tells the app's listener, after the commit, so it can end sessions or revoke tokens; `null` without one. */
  readonly announce: ((user: UserRecord, audit: AuditEvent) => Promise<void>) | null;
}

/** Throws `SeatLimitReachedError` unless the tenant has a seat left; holds its seat lock until `tx` ends. */
export async function admitUser(
  settings: LifecycleSettings,
  tx: StoreTransaction,
  tenantId: string,
): Promise<void> {
  const tenant = await settings.tenantOf(tenantId);
  if (tenant.seatLimit !== null && !(await tx.acquireSeat(tenant.id, tenant.seatLimit))) {
    throw new SeatLimitReachedError(tenant.id, tenant.seatLimit);
  }
}

/** Deactivates or reactivates one user, audited; a user already in `status` is returned unchanged. */
export async function setStatus(
  settings: LifecycleSettings,
  userId: string,
  status: 'active' | 'deactivated',
  actor: AuditActor,
  reason: string | null,
): Promise<UserRecord> {
  const { now, inTransaction, announce } = settings;
  let written: AuditEvent | null = null;
  const user = await inTransaction(async (tx) => {
    const user = await tx.findUserById(userId);
    if (!user) throw new UserNotFoundError(userId);
    if (user.status === status) return user;
    if (status === 'active') await admitUser(settings, tx, user.tenantId);
    const at = now();
    const updated = await tx.updateUser(userId, {
      status,
      deactivatedAt: status === 'deactivated' ? at : null,
      updatedAt: at,
    });
    written = auditEvent({
      at: now(),
      tenantId: user.tenantId,
      actor,
      action: status === 'active' ? 'reactivated' : 'deactivated',
      userId,
      reason,
      changes: [{ field: 'status', from: user.status, to: status }],
    });
    await tx.appendAudit(written);
    return updated;
  });
  if (written && announce) await announce(user, written);
  return user;
}

/** Deactivates the tenant's users not seen since a date, a page at a time (or only counts them: `dryRun`). */
export async function deactivateDormant(
  settings: LifecycleSettings,
  cleanup: DormantCleanupOptions,
): Promise<DormantCleanupReport> {
  const dryRun = cleanup.dryRun ?? true;
  const excluded = new Set(cleanup.excludeRoles ?? []);
  const limit = cleanup.batchSize ?? 500;
  let afterId: string | undefined;
  let deactivated = 0;
  let kept = 0;
  for (;;) {
    const page = await settings.store.findDormantUsers(cleanup.tenantId, cleanup.notSeenSince, {
      afterId,
      limit,
    });
    if (page.length === 0) break;
    afterId = page[page.length - 1]!.id;
    const chosen = page.filter((user) => !user.roles.some((grant) => excluded.has(grant.role)));
    kept += page.length - chosen.length;
    for (const user of chosen) cleanup.onUser?.(user);
    if (!dryRun && chosen.length) deactivated += await deactivatePage(settings, chosen, cleanup);
    else if (dryRun) deactivated += chosen.length;
    if (page.length < limit) break;
  }
  return { dryRun, deactivated, kept };
}

/** Deactivates one page of dormant users in one transaction; returns how many it deactivated. */
async function deactivatePage(
  settings: LifecycleSettings,
  chosen: readonly UserRecord[],
  cleanup: DormantCleanupOptions,
): Promise<number> {
  const { now, inTransaction, announce } = settings;
  let done: { user: UserRecord; audit: AuditEvent }[] = [];
  const count = await inTransaction(async (tx) => {
    done = [];
    for (const candidate of chosen) {
      // Re-read inside the transaction: the person may have signed in since the page was read.
      const user = await tx.findUserById(candidate.id);
      const seen = user?.lastLoginAt ?? user?.createdAt;
      if (!user || user.status !== 'active' || !seen || seen >= cleanup.notSeenSince) continue;
      const at = now();
      const updated = await tx.updateUser(user.id, {
        status: 'deactivated',
        deactivatedAt: at,
        updatedAt: at,
      });
      const event = auditEvent({
        at: now(),
        tenantId: user.tenantId,
        actor: cleanup.actor ?? 'system',
        action: 'deactivated',
        userId: user.id,
        reason: 'dormant',
        changes: [{ field: 'status', from: 'active', to: 'deactivated' }],
      });
      await tx.appendAudit(event);
      done.push({ user: updated, audit: event });
    }
    return done.length;
  });
  // After the commit, as for every other deactivation, so listeners can end sessions or revoke tokens.
  if (announce) for (const { user, audit } of done) await announce(user, audit);
  return count;
}
