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
  'group.members_changed',
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

/** `group.created`, `group.deleted`: the group's id (SCIM resource id) and display name. */
export interface GroupEventPayload extends EventPayloadBase {
  readonly groupId: string | null;
  readonly group: string | null;
}

/**
 * `group.members_changed`: the user ids a write added to the group and removed from it. Lists cut
 * to fit the payload limit come with `truncated: true`: the receiver then reads the group.
 */
export interface GroupMembersEventPayload extends GroupEventPayload {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/**
 * `config.changed`: what was changed (`scim-directory`, `scim-token`, `webhook-endpoint`, and from
 * the stored configuration `tenant`, `connection`, `domain`) and how.
 */
export interface ConfigEventPayload extends EventPayloadBase {
  readonly object: string;
  readonly change: 'created' | 'updated' | 'deleted';
  readonly id: string | null;
  /** For the stored configuration: its action (`domain.verified`, `connection.updated`, ...). */
  readonly action?: string;
  /** For the stored configuration: the names of the fields changed, without their values. */
  readonly fields?: readonly string[];
}

export type EventPayload =
  UserEventPayload | RefusedLoginPayload | GroupEventPayload | GroupMembersEventPayload | ConfigEventPayload;

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

/** The objects of the stored configuration (`changeConfiguration`), as audit reasons. */
const STORED_CONFIG_OBJECTS = new Set(['tenant', 'connection', 'domain']);

const CONFIG_OBJECTS = new Set([
  'scim-directory',
  'scim-token',
  'webhook-endpoint',
  ...STORED_CONFIG_OBJECTS,
]);

/**
 * The most user ids of each list (added, removed) that the audit event of a group's membership
 * change records; a write that changed more records its counts too (`membersChange`).
 */
export const MAX_AUDITED_MEMBERS = 200;

/**
 * The audit changes of a group's membership change: `members` from the ids removed to the ids
 * added (each list at most `MAX_AUDITED_MEMBERS`), and, when a list was cut, `memberCounts` with
 * the full counts. Empty when the write changed no membership: such a write is not audited.
 */
export function membersChange(added: readonly string[], removed: readonly string[]): Change[] {
  if (!added.length && !removed.length) return [];
  const changes: Change[] = [
    {
      field: 'members',
      from: removed.slice(0, MAX_AUDITED_MEMBERS),
      to: added.slice(0, MAX_AUDITED_MEMBERS),
    },
  ];
  if (added.length > MAX_AUDITED_MEMBERS || removed.length > MAX_AUDITED_MEMBERS) {
    changes.push({ field: 'memberCounts', from: removed.length, to: added.length });
  }
  return changes;
}

const ids = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

function membersOf(audit: AuditEvent): { added: string[]; removed: string[]; cut: boolean } | null {
  if (audit.reason !== 'scim-group' || audit.action !== 'updated') return null;
  const change = audit.changes.find((c) => c.field === 'members');
  if (!change) return null;
  const added = ids(change.to);
  const removed = ids(change.from);
  if (!added.length && !removed.length) return null;
  const cut = audit.changes.some((c) => c.field === 'memberCounts');
  return { added, removed, cut };
}

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
  if (membersOf(audit)) return true;
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
    const stored = STORED_CONFIG_OBJECTS.has(audit.reason);
    const action = audit.changes.find((c) => c.field === 'action')?.to;
    const fields = audit.changes.find((c) => c.field === 'fields')?.to;
    const payload: ConfigEventPayload = {
      ...base,
      object: audit.reason,
      change,
      id: typeof id === 'string' ? id : null,
      ...(stored && typeof action === 'string' ? { action } : {}),
      ...(stored ? { fields: ids(fields) } : {}),
    };
    return event('config.changed', payload, `tenant:${audit.tenantId}`);
  }
  if (audit.reason === 'scim-group' && (audit.action === 'created' || audit.action === 'deleted')) {
    const first = audit.changes[0];
    const name = first ? (audit.action === 'created' ? first.to : first.from) : null;
    return event(`group.${audit.action}`, {
      ...base,
      groupId: audit.subject,
      group: typeof name === 'string' ? name : null,
    });
  }
  const members = membersOf(audit);
  if (members) {
    const name = audit.changes.find((c) => c.field === 'group')?.to;
    const payload: GroupMembersEventPayload = {
      ...base,
      groupId: audit.subject,
      group: typeof name === 'string' ? name : null,
      added: members.added,
      removed: members.removed,
      ...(members.cut ? { truncated: true as const } : {}),
    };
    return event('group.members_changed', payload);
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

/**
 * The payload, or the payload without its lists when its JSON is over the limit; a membership
 * change keeps as many of its ids as fit, added first.
 */
function fitted(payload: EventPayload): EventPayload {
  if (payloadBytes(payload) <= MAX_EVENT_PAYLOAD_BYTES) return payload;
  if ('added' in payload) return fittedMembers(payload);
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

function fittedMembers(payload: GroupMembersEventPayload): EventPayload {
  const group =
    payload.group !== null && payload.group.length > 255 ? payload.group.slice(0, 255) : payload.group;
  const empty = { ...payload, group, added: [], removed: [], truncated: true as const };
  // Each id costs its JSON string and a comma.
  let room = MAX_EVENT_PAYLOAD_BYTES - payloadBytes(empty);
  const keep = (list: readonly string[]) => {
    const kept: string[] = [];
    for (const id of list) {
      const cost = Buffer.byteLength(JSON.stringify(id), 'utf8') + 1;
      if (cost > room) break;
      room -= cost;
      kept.push(id);
    }
    return kept;
  };
  const added = keep(payload.added);
  const removed = keep(payload.removed);
  return { ...empty, added, removed };
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
