import { HINTS_BY_CODE, hintFor, type JitErrorCode } from './errors.js';
import type { AuditActor, AuditEvent, Change } from './model.js';

/**
 * Lifecycle events: what an app (or a second service) reacts to, derived from the audit event that
 * a change writes, and stored in the outbox by the same `appendAudit`, in the same transaction. An
 * event is never written without its change, nor a change without its event.
 *
 * Payloads carry identifiers, codes and role names, never secrets or profile values: a receiver
 * reads the user (by `userId`) when it needs more. The payload's `version` changes only when a field
 * changes meaning or goes away; new fields may appear in any version.
 */
export const LIFECYCLE_EVENT_TYPES = [
  'user.created',
  'user.linked',
  'user.updated',
  'user.roles_changed',
  'user.deactivated',
  'user.reactivated',
  'user.deleted',
  'group.created',
  'group.deleted',
  'login.refused',
  'config.changed',
] as const;

export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

/** The version of every payload this release writes. */
export const EVENT_PAYLOAD_VERSION = 1;

/** The largest payload (UTF-8 bytes of its JSON) written or delivered; larger ones are cut (see below). */
export const MAX_EVENT_PAYLOAD_BYTES = 16_384;

/** The fields of every payload. */
export interface EventPayloadBase {
  readonly version: typeof EVENT_PAYLOAD_VERSION;
  /** Who made the change: `jit` (a login), `scim` (the directory), `admin` or `system`. */
  readonly actor: AuditActor;
  /** The connection involved, when there is one. */
  readonly connectionId: string | null;
  /** The user, for `user.*` and `login.refused` (when the login named a known user). */
  readonly userId: string | null;
  /** Set when the payload went over `MAX_EVENT_PAYLOAD_BYTES` and its lists were dropped. */
  readonly truncated?: true;
}

/** `user.*`: `reason` is the lifecycle's reason (`dormant`, `scim`, ...); `fields` names what changed. */
export interface UserEventPayload extends EventPayloadBase {
  readonly reason: string | null;
  readonly fields: readonly string[];
  /** Role names before and after, when the change touched roles. */
  readonly roles?: { readonly from: readonly string[]; readonly to: readonly string[] };
}

/** `login.refused`: the stable error code and the hint for the administrator who can fix it. */
export interface RefusedLoginPayload extends EventPayloadBase {
  readonly code: string;
  readonly hint: string | null;
}

/** `group.created`, `group.deleted`: the group's display name. */
export interface GroupEventPayload extends EventPayloadBase {
  readonly group: string | null;
}

/** `config.changed`: what was changed (`scim-directory`, `scim-token`, `webhook-endpoint`) and how. */
export interface ConfigEventPayload extends EventPayloadBase {
  readonly object: string;
  readonly change: 'created' | 'updated' | 'deleted';
  readonly id: string | null;
}

export type EventPayload = UserEventPayload | RefusedLoginPayload | GroupEventPayload | ConfigEventPayload;

export interface LifecycleEvent {
  /** Stable and unique: the id of the audit event it comes from (UUIDv7), and the `webhook-id`. */
  readonly id: string;
  readonly type: LifecycleEventType;
  readonly at: Date;
  readonly tenantId: string;
  /**
   * Events with the same key reach each endpoint in the order of their ids: the user's id for
   * events about a user, `tenant:<id>` for the others.
   */
  readonly orderingKey: string;
  readonly payload: EventPayload;
}

const USER_TYPES: Partial<Record<AuditEvent['action'], LifecycleEventType>> = {
  created: 'user.created',
  linked: 'user.linked',
  updated: 'user.updated',
  deactivated: 'user.deactivated',
  reactivated: 'user.reactivated',
  deleted: 'user.deleted',
};

const CONFIG_OBJECTS = new Set(['scim-directory', 'scim-token', 'webhook-endpoint']);

/**
 * Whether `lifecycleEventOf(audit)` is an event, without building it: what a store asks on every
 * `appendAudit`.
 */
export function hasLifecycleEvent(audit: AuditEvent): boolean {
  if (audit.action === 'unchanged') return false;
  if (audit.action === 'denied') return audit.actor === 'jit';
  if (audit.reason !== null && CONFIG_OBJECTS.has(audit.reason)) return true;
  if (audit.reason === 'scim-group' && (audit.action === 'created' || audit.action === 'deleted'))
    return true;
  return audit.userId !== null && USER_TYPES[audit.action] !== undefined;
}

/**
 * The lifecycle event an audit event describes, or `null` when it describes none (a login that
 * changed nothing, a refused SCIM token).
 */
export function lifecycleEventOf(audit: AuditEvent): LifecycleEvent | null {
  const base = {
    version: EVENT_PAYLOAD_VERSION,
    actor: audit.actor,
    connectionId: audit.connectionId,
    userId: audit.userId,
  } as const;
  const event = (type: LifecycleEventType, payload: EventPayload, orderingKey?: string): LifecycleEvent =>
    Object.freeze({
      id: audit.id,
      type,
      at: audit.at,
      tenantId: audit.tenantId,
      orderingKey: orderingKey ?? audit.userId ?? `tenant:${audit.tenantId}`,
      payload: fitted(payload),
    });
  if (audit.action === 'unchanged') return null;
  if (audit.action === 'denied') {
    if (audit.actor !== 'jit') return null;
    const code = audit.reason ?? 'UNKNOWN';
    return event('login.refused', { ...base, code, hint: refusalHint(code) });
  }
  if (audit.reason !== null && CONFIG_OBJECTS.has(audit.reason)) {
    const change =
      audit.action === 'created' ? 'created' : audit.action === 'deleted' ? 'deleted' : 'updated';
    const first = audit.changes[0];
    const id = first ? (change === 'deleted' ? first.from : first.to) : null;
    return event(
      'config.changed',
      { ...base, object: audit.reason, change, id: typeof id === 'string' ? id : null },
      `tenant:${audit.tenantId}`,
    );
  }
  if (audit.reason === 'scim-group' && (audit.action === 'created' || audit.action === 'deleted')) {
    const first = audit.changes[0];
    const name = first ? (audit.action === 'created' ? first.to : first.from) : null;
    return event(`group.${audit.action}`, { ...base, group: typeof name === 'string' ? name : null });
  }
  if (audit.userId === null) return null;
  let type = USER_TYPES[audit.action];
  if (!type) return null;
  const fields = [...new Set(audit.changes.map((c) => c.field))].sort();
  const roles = rolesChange(audit.changes);
  if (type === 'user.updated' && roles && fields.length === 1) type = 'user.roles_changed';
  return event(type, { ...base, reason: audit.reason, fields, ...(roles ? { roles } : {}) });
}

function rolesChange(changes: readonly Change[]): UserEventPayload['roles'] | undefined {
  const change = changes.find((c) => c.field === 'roles');
  if (!change) return undefined;
  const names = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  return { from: names(change.from), to: names(change.to) };
}

/** The payload, or the payload without its lists when its JSON is over the limit. */
function fitted(payload: EventPayload): EventPayload {
  if (payloadBytes(payload) <= MAX_EVENT_PAYLOAD_BYTES) return payload;
  const { roles: _roles, fields: _fields, ...rest } = payload as UserEventPayload;
  const cut: Record<string, unknown> = { ...rest, truncated: true };
  if ('fields' in payload) cut['fields'] = [];
  for (const key of ['group', 'hint', 'code', 'reason', 'id'] as const) {
    if (typeof cut[key] === 'string' && (cut[key] as string).length > 255) {
      cut[key] = (cut[key] as string).slice(0, 255);
    }
  }
  return cut as unknown as EventPayload;
}

export function payloadBytes(payload: unknown): number {
  return Buffer.byteLength(JSON.stringify(payload), 'utf8');
}

/** What a webhook receives: the Standard Webhooks body. */
export interface WebhookBody {
  readonly type: LifecycleEventType;
  /** ISO 8601. */
  readonly timestamp: string;
  readonly tenantId: string;
  readonly data: EventPayload;
}

export function webhookBody(event: Pick<LifecycleEvent, 'type' | 'at' | 'tenantId' | 'payload'>): string {
  const body: WebhookBody = {
    type: event.type,
    timestamp: event.at.toISOString(),
    tenantId: event.tenantId,
    data: event.payload,
  };
  return JSON.stringify(body);
}

/** The hint of an error code, or `null` for a code this release does not know. */
export function refusalHint(code: string): string | null {
  return Object.hasOwn(HINTS_BY_CODE, code) ? hintFor(code as JitErrorCode) : null;
}
