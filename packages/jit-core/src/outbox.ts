import type { AuditEvent } from './model.js';
import type { LifecycleEvent, LifecycleEventType } from './events.js';
import type { StoreReader } from './store.js';

/**
 * The outbox part of the store contract: the lifecycle events a store wrote with their changes
 * (`appendAudit` writes both), the endpoints that receive them, and one delivery per (event,
 * endpoint). Several delivery workers may share one store: a delivery is claimed by one of them at a
 * time (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL and MariaDB, the single writer on SQLite),
 * for a lease after which another may take it over.
 */

/**
 * `pending`: to send at `nextAttemptAt`; `sending`: claimed by a worker until `leaseUntil`;
 * `delivered`; `dead`: given up on (too old, refused for good, or too large), until redelivered.
 */
export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'dead';

export interface WebhookEndpointRecord {
  readonly id: string;
  /** The tenant whose events it receives; `null` for every tenant (an in-process subscriber). */
  readonly tenantId: string | null;
  /** An `https:` or `http:` URL, or `subscriber:<name>` for an in-process subscriber. */
  readonly url: string;
  /** The signing secret (`whsec_...`); `null` for a subscriber. */
  readonly secret: string | null;
  /** The secret before the last rotation, still signed with until `previousSecretExpiresAt`. */
  readonly previousSecret: string | null;
  readonly previousSecretExpiresAt: Date | null;
  readonly paused: boolean;
  /** The event types it receives; `null` for all. */
  readonly eventTypes: readonly LifecycleEventType[] | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface EndpointPatch {
  secret?: string;
  previousSecret?: string | null;
  previousSecretExpiresAt?: Date | null;
  paused?: boolean;
  eventTypes?: readonly LifecycleEventType[] | null;
  url?: string;
  updatedAt: Date;
}

export interface DeliveryRecord {
  readonly id: string;
  readonly eventId: string;
  readonly endpointId: string;
  readonly orderingKey: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  /** Until when a worker holds a `sending` delivery. */
  readonly leaseUntil: Date | null;
  readonly lastError: string | null;
  /** The HTTP status of the last attempt, when the endpoint answered. */
  readonly lastStatus: number | null;
  readonly deliveredAt: Date | null;
  readonly createdAt: Date;
}

/** A delivery a worker holds, with its event and endpoint. */
export interface ClaimedDelivery {
  readonly delivery: DeliveryRecord;
  readonly event: LifecycleEvent;
  readonly endpoint: WebhookEndpointRecord;
}

export interface ClaimOptions {
  readonly now: Date;
  /** How long the claim holds; after it, another worker may take the delivery over. */
  readonly leaseMs: number;
  readonly limit: number;
  /** Which endpoints this worker sends to: HTTP endpoints, and the subscribers named (it runs them). */
  readonly http: boolean;
  readonly subscribers: readonly string[];
}

export interface DeliveryQuery {
  endpointId?: string;
  tenantId?: string;
  status?: DeliveryStatus;
  eventId?: string;
  /** Deliveries with an id greater than this, ordered by id. */
  afterId?: string;
  limit: number;
}

export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly at: Date; readonly status: number | null }
  | {
      readonly kind: 'failed';
      readonly at: Date;
      readonly error: string;
      readonly status: number | null;
      /** When to try again; `null` makes the delivery `dead`. */
      readonly retryAt: Date | null;
    };

export interface OutboxStore extends StoreReader {
  /**
   * Creates the deliveries of up to `limit` events not yet dispatched (in id order), one per endpoint
   * registered for the event's tenant and type at that time, and marks the events dispatched.
   * Concurrent callers take turns, so the deliveries of one ordering key are created in id order.
   * Resolves to how many events it dispatched.
   */
  dispatchEvents(limit: number, now: Date): Promise<number>;
  /**
   * Claims up to `limit` deliveries due at `now` (pending, or sending with an expired lease), each
   * the first undelivered one of its (endpoint, ordering key), of endpoints not paused; marks them
   * `sending` until `now + leaseMs` and counts an attempt. No two callers get the same delivery
   * while its lease runs.
   */
  claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Records what an attempt did; ignored when the delivery is no longer `sending` under this attempt. */
  finishDelivery(id: string, attempt: number, outcome: DeliveryOutcome): Promise<void>;
  /** Makes matching deliveries (dead ones by default) pending again, due at `at`; resolves to how many. */
  redeliver(
    query: { endpointId?: string; eventId?: string; tenantId?: string; status?: DeliveryStatus },
    at: Date,
  ): Promise<number>;
  listDeliveries(query: DeliveryQuery): Promise<DeliveryRecord[]>;
  /** Events in id order, at most `limit` after `afterId`. */
  listEvents(query: { tenantId?: string; afterId?: string; limit: number }): Promise<LifecycleEvent[]>;
  findEndpoint(id: string): Promise<WebhookEndpointRecord | null>;
  /** Endpoints of a tenant (and those of every tenant), or all of them, ordered by id. */
  listEndpoints(tenantId?: string): Promise<WebhookEndpointRecord[]>;
  /** Writes the endpoint and, in the same transaction, its audit event (and so its `config.changed`). */
  insertEndpoint(endpoint: WebhookEndpointRecord, audit: AuditEvent | null): Promise<WebhookEndpointRecord>;
  updateEndpoint(id: string, patch: EndpointPatch, audit: AuditEvent | null): Promise<WebhookEndpointRecord>;
}

export function isOutboxStore(store: StoreReader): store is OutboxStore {
  return typeof (store as Partial<OutboxStore>).claimDeliveries === 'function';
}
