import type { AuditEvent, Provisioner } from '@jit-sso/core';
import type { LastLogin } from './pages.js';

const SIGN_IN_ACTIONS = new Set(['created', 'linked', 'updated', 'unchanged']);

/** The most recent audit events (the store lists them oldest first). */
export async function latestAuditEvents(
  provisioner: Pick<Provisioner, 'store'>,
  query: { userId?: string; tenantId?: string },
  keep: number,
): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = await provisioner.store.listAuditEvents({ ...query, afterId, limit: 500 });
    events.push(...page);
    if (events.length > keep) events.splice(0, events.length - keep);
    if (page.length < 500) break;
    afterId = page[page.length - 1]!.id;
  }
  return events.reverse();
}

/** What the user's latest sign-in did, from the audit event the engine wrote for it. */
export async function lastSignInFromAudit(
  provisioner: Pick<Provisioner, 'store'>,
  userId: string,
): Promise<LastLogin | null> {
  const event = (await latestAuditEvents(provisioner, { userId }, 20)).find(
    (e) => e.actor === 'jit' && SIGN_IN_ACTIONS.has(e.action),
  );
  if (!event || event.connectionId === null) return null;
  return {
    action: event.action as LastLogin['action'],
    connectionId: event.connectionId,
    changes: [...event.changes],
    at: event.at.toISOString(),
  };
}
