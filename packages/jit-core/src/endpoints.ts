import { randomBytes } from 'node:crypto';
import { auditEvent } from './audit.js';
import { WebhookError } from './errors.js';
import { LIFECYCLE_EVENT_TYPES, type LifecycleEventType } from './events.js';
import { uuidv7 } from './ids.js';
import type { AuditActor } from './model.js';
import type { DeliveryRecord, DeliveryStatus, OutboxStore, WebhookEndpointRecord } from './outbox.js';
import {
  checkWebhookUrl,
  systemResolver,
  type AddressResolver,
  type WebhookMode,
} from './webhook-address.js';

/**
 * Managing webhook endpoints, without a framework: what the CLI and an admin service call. Every
 * change is audited (and so becomes a `config.changed` event) in the transaction that makes it.
 * Secrets are returned once, when made; listings show endpoints without them.
 */

export interface EndpointContext {
  store: OutboxStore;
  /** `production` (default) accepts https URLs on public addresses only. */
  mode?: WebhookMode;
  actor?: AuditActor;
  /** Who made the change, as the app names them (an administrator's id): the audit event's subject. */
  subject?: string;
  now?: () => Date;
  resolve?: AddressResolver;
}

/** An endpoint as listed: its secrets left out. */
export type EndpointView = Omit<WebhookEndpointRecord, 'secret' | 'previousSecret'> & {
  /** Whether a previous secret is still signed with. */
  readonly rotating: boolean;
};

/** A new signing secret in the Standard Webhooks format: `whsec_` and 32 random bytes, base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function endpointView(endpoint: WebhookEndpointRecord, at: Date = new Date()): EndpointView {
  const { secret: _secret, previousSecret, ...rest } = endpoint;
  return Object.freeze({
    ...rest,
    rotating: previousSecret !== null && (endpoint.previousSecretExpiresAt?.getTime() ?? 0) > at.getTime(),
  });
}

function checkTypes(types: readonly string[] | null | undefined): readonly LifecycleEventType[] | null {
  if (types == null) return null;
  if (!Array.isArray(types) || types.some((t) => typeof t !== 'string')) {
    throw new WebhookError(
      'WEBHOOK_EVENT_TYPE_UNKNOWN',
      `Event types are a list of names: ${LIFECYCLE_EVENT_TYPES.join(', ')}.`,
    );
  }
  if (types.length === 0) return null;
  const unknown = types.filter((t) => !(LIFECYCLE_EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length) {
    throw new WebhookError(
      'WEBHOOK_EVENT_TYPE_UNKNOWN',
      `Unknown event types: ${unknown.join(', ')}. Event types are: ${LIFECYCLE_EVENT_TYPES.join(', ')}.`,
    );
  }
  return Object.freeze([...new Set(types)].sort()) as readonly LifecycleEventType[];
}

async function existing(ctx: EndpointContext, id: string): Promise<WebhookEndpointRecord> {
  const endpoint = await ctx.store.findEndpoint(id);
  if (!endpoint || endpoint.tenantId === null) {
    throw new WebhookError('WEBHOOK_ENDPOINT_NOT_FOUND', `No webhook endpoint with id "${id}".`);
  }
  return endpoint;
}

function audit(
  ctx: EndpointContext,
  endpoint: WebhookEndpointRecord,
  action: 'created' | 'updated',
  at: Date,
) {
  return auditEvent({
    at,
    tenantId: endpoint.tenantId ?? 'unknown',
    actor: ctx.actor ?? 'admin',
    action,
    subject: ctx.subject ?? null,
    reason: 'webhook-endpoint',
    changes: [{ field: 'endpoint', from: action === 'created' ? null : endpoint.id, to: endpoint.id }],
  });
}

/** Registers an endpoint for a tenant's events; returns it with its secret (shown this once). */
export async function registerWebhookEndpoint(
  ctx: EndpointContext,
  input: { tenantId: string; url: string; eventTypes?: readonly string[] | null },
): Promise<{ endpoint: EndpointView; secret: string }> {
  if (typeof input.tenantId !== 'string' || !input.tenantId || input.tenantId.length > 128) {
    throw new WebhookError(
      'WEBHOOK_URL_INVALID',
      'A webhook endpoint needs a tenant id (at most 128 characters).',
    );
  }
  const eventTypes = checkTypes(input.eventTypes);
  await checkWebhookUrl(input.url, ctx.mode ?? 'production', ctx.resolve ?? systemResolver);
  const at = (ctx.now ?? (() => new Date()))();
  const secret = newWebhookSecret();
  const endpoint: WebhookEndpointRecord = Object.freeze({
    id: uuidv7(at),
    tenantId: input.tenantId,
    url: input.url,
    secret,
    previousSecret: null,
    previousSecretExpiresAt: null,
    paused: false,
    eventTypes,
    createdAt: at,
    updatedAt: at,
  });
  await ctx.store.insertEndpoint(endpoint, audit(ctx, endpoint, 'created', at));
  return { endpoint: endpointView(endpoint, at), secret };
}

/**
 * Gives an endpoint a new secret. Until `overlapMs` has passed (default 24 h) each delivery is
 * signed with both, so the receiver can switch to the new one at its own pace.
 */
export async function rotateWebhookSecret(
  ctx: EndpointContext,
  id: string,
  options: { overlapMs?: number } = {},
): Promise<{ endpoint: EndpointView; secret: string }> {
  const current = await existing(ctx, id);
  const at = (ctx.now ?? (() => new Date()))();
  const secret = newWebhookSecret();
  const overlap = Math.max(0, options.overlapMs ?? 24 * 3_600_000);
  const updated = await ctx.store.updateEndpoint(
    id,
    {
      secret,
      previousSecret: overlap > 0 ? current.secret : null,
      previousSecretExpiresAt: overlap > 0 ? new Date(at.getTime() + overlap) : null,
      updatedAt: at,
    },
    audit(ctx, current, 'updated', at),
  );
  return { endpoint: endpointView(updated, at), secret };
}

/** Pauses an endpoint (its deliveries wait, none is lost) or resumes it. */
export async function pauseWebhookEndpoint(
  ctx: EndpointContext,
  id: string,
  paused: boolean,
): Promise<EndpointView> {
  const current = await existing(ctx, id);
  const at = (ctx.now ?? (() => new Date()))();
  const updated = await ctx.store.updateEndpoint(
    id,
    { paused, updatedAt: at },
    audit(ctx, current, 'updated', at),
  );
  return endpointView(updated, at);
}

/** The endpoints of a tenant (all tenants when none is given), without their secrets. */
export async function listWebhookEndpoints(ctx: EndpointContext, tenantId?: string): Promise<EndpointView[]> {
  const at = (ctx.now ?? (() => new Date()))();
  const endpoints = await ctx.store.listEndpoints(tenantId);
  return endpoints.filter((e) => e.tenantId !== null).map((e) => endpointView(e, at));
}

/** Deliveries that failed: dead ones, and pending ones whose last attempt failed. */
export async function listDeliveryFailures(
  ctx: EndpointContext,
  query: { endpointId?: string; tenantId?: string; limit?: number } = {},
): Promise<DeliveryRecord[]> {
  const limit = query.limit ?? 100;
  const base = { endpointId: query.endpointId, tenantId: query.tenantId, limit };
  const strip = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const [dead, pending] = await Promise.all([
    ctx.store.listDeliveries(strip({ ...base, status: 'dead' as DeliveryStatus })),
    ctx.store.listDeliveries(strip({ ...base, status: 'pending' as DeliveryStatus })),
  ]);
  return [...dead, ...pending.filter((d) => d.lastError !== null)]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, limit);
}

/** Sends dead deliveries (or those of `status`) again, from now; resolves to how many. */
export function redeliverWebhooks(
  ctx: EndpointContext,
  query: { endpointId?: string; eventId?: string; tenantId?: string; status?: DeliveryStatus } = {},
): Promise<number> {
  const at = (ctx.now ?? (() => new Date()))();
  const strip = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
  return ctx.store.redeliver(strip, at);
}
