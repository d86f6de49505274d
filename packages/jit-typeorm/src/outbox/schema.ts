import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';
import { epochMillis } from '../columns.js';

type Column = EntitySchemaColumnOptions;

/**
 * The outbox: a marker per change that has a lifecycle event, written with the change, then the events, the webhook endpoints (and
 * in-process subscribers) that receive them, and one delivery per (event, endpoint). Instants are
 * epoch milliseconds and structured values JSON text, as in the rest of the store.
 */
export interface JitOutboxEvent {
  id: string;
  tenantId: string;
  type: string;
  at: Date;
  orderingKey: string;
  payload: string;
}

export interface JitOutboxPending {
  auditId: string;
}

export interface JitWebhookEndpoint {
  id: string;
  tenantId: string | null;
  url: string;
  secret: string | null;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  paused: number;
  eventTypes: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface JitWebhookDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  orderingKey: string;
  status: string;
  attempts: number;
  nextAttemptAt: Date;
  leaseUntil: Date | null;
  lastError: string | null;
  lastStatus: number | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

export const outboxEventColumns = {
  /** The audit event's id (UUIDv7), the `webhook-id`. */
  id: { type: 'varchar', length: 36, primary: true },
  tenantId: { name: 'tenant_id', type: 'varchar', length: 128 },
  type: { name: 'type', type: 'varchar', length: 32 },
  at: { name: 'at', type: 'bigint', transformer: epochMillis },
  orderingKey: { name: 'ordering_key', type: 'varchar', length: 160 },
  /** The versioned payload, JSON. */
  payload: { name: 'payload', type: 'text' },
} as const satisfies Record<string, Column>;

export const outboxPendingColumns = {
  /** An audit event whose lifecycle event is not dispatched yet. */
  auditId: { name: 'audit_id', type: 'varchar', length: 36, primary: true },
} as const satisfies Record<string, Column>;

export const webhookEndpointColumns = {
  id: { type: 'varchar', length: 36, primary: true },
  tenantId: { name: 'tenant_id', type: 'varchar', length: 128, nullable: true },
  url: { name: 'url', type: 'varchar', length: 2048 },
  secret: { name: 'secret', type: 'varchar', length: 128, nullable: true },
  previousSecret: { name: 'previous_secret', type: 'varchar', length: 128, nullable: true },
  previousSecretExpiresAt: {
    name: 'previous_secret_expires_at',
    type: 'bigint',
    nullable: true,
    transformer: epochMillis,
  },
  paused: { name: 'paused', type: 'int', default: 0 },
  /** JSON array of event types, or null for all. */
  eventTypes: { name: 'event_types', type: 'text', nullable: true },
  createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
  updatedAt: { name: 'updated_at', type: 'bigint', transformer: epochMillis },
} as const satisfies Record<string, Column>;

export const webhookDeliveryColumns = {
  id: { type: 'varchar', length: 36, primary: true },
  eventId: { name: 'event_id', type: 'varchar', length: 36 },
  endpointId: { name: 'endpoint_id', type: 'varchar', length: 36 },
  orderingKey: { name: 'ordering_key', type: 'varchar', length: 160 },
  status: { name: 'status', type: 'varchar', length: 16 },
  attempts: { name: 'attempts', type: 'int', default: 0 },
  nextAttemptAt: { name: 'next_attempt_at', type: 'bigint', transformer: epochMillis },
  leaseUntil: { name: 'lease_until', type: 'bigint', nullable: true, transformer: epochMillis },
  lastError: { name: 'last_error', type: 'varchar', length: 500, nullable: true },
  lastStatus: { name: 'last_status', type: 'int', nullable: true },
  deliveredAt: { name: 'delivered_at', type: 'bigint', nullable: true, transformer: epochMillis },
  createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
} as const satisfies Record<string, Column>;

export const JitOutboxEventEntity = new EntitySchema<JitOutboxEvent>({
  name: 'JitOutboxEvent',
  tableName: 'jit_outbox_events',
  columns: outboxEventColumns,
  indices: [{ name: 'IDX_jit_outbox_events_tenant_id', columns: ['tenantId', 'id'] }],
});

/**
 * What a change adds to its transaction: the id of its audit event, in a table with no other index,
 * the cheapest row a database writes. Dispatching builds the event from the audit row, writes it to
 * `jit_outbox_events` with its deliveries, and deletes the marker.
 */
export const JitOutboxPendingEntity = new EntitySchema<JitOutboxPending>({
  name: 'JitOutboxPending',
  tableName: 'jit_outbox_pending',
  columns: outboxPendingColumns,
  // SQLite: the key is the table (one B-tree, no rowid beside it).
  withoutRowid: true,
});

export const JitWebhookEndpointEntity = new EntitySchema<JitWebhookEndpoint>({
  name: 'JitWebhookEndpoint',
  tableName: 'jit_webhook_endpoints',
  columns: webhookEndpointColumns,
  indices: [{ name: 'IDX_jit_webhook_endpoints_tenant', columns: ['tenantId'] }],
});

export const JitWebhookDeliveryEntity = new EntitySchema<JitWebhookDelivery>({
  name: 'JitWebhookDelivery',
  tableName: 'jit_webhook_deliveries',
  columns: webhookDeliveryColumns,
  indices: [
    { name: 'UQ_jit_webhook_deliveries_event_endpoint', columns: ['eventId', 'endpointId'], unique: true },
    { name: 'IDX_jit_webhook_deliveries_due', columns: ['status', 'nextAttemptAt'] },
    {
      name: 'IDX_jit_webhook_deliveries_order',
      columns: ['endpointId', 'orderingKey', 'eventId'],
    },
  ],
});

export const outboxEntities: EntitySchema[] = [
  JitOutboxPendingEntity,
  JitOutboxEventEntity,
  JitWebhookEndpointEntity,
  JitWebhookDeliveryEntity,
] as EntitySchema[];
