import { uuidv7 } from './ids.js';
import type { AuditAction, AuditActor, AuditEvent, Change } from './model.js';

/** What an audit event says; the fields a writer leaves out are recorded as `null` (or no changes). */
export interface AuditFields {
  readonly tenantId: string;
  readonly actor: AuditActor;
  readonly action: AuditAction;
  /** When it happened; its id sorts by this time. Default: now. */
  readonly at?: Date;
  readonly connectionId?: string | null;
  readonly subject?: string | null;
  readonly userId?: string | null;
  readonly reason?: string | null;
  readonly changes?: readonly Change[];
}

/**
 * Builds an audit event, frozen. Every writer of the audit (logins, lifecycle, the SCIM directory,
 * the CLI) goes through here, so that every event has the same shape and an id that sorts by time.
 */
export function auditEvent(fields: AuditFields): AuditEvent {
  const at = fields.at ?? new Date();
  return Object.freeze({
    id: uuidv7(at),
    at,
    tenantId: fields.tenantId,
    actor: fields.actor,
    action: fields.action,
    connectionId: fields.connectionId ?? null,
    subject: fields.subject ?? null,
    userId: fields.userId ?? null,
    reason: fields.reason ?? null,
    changes: Object.freeze([...(fields.changes ?? [])]),
  });
}
