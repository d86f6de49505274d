import { describe, expect, it } from 'vitest';
import {
  MemoryConfigurationStore,
  MemoryStore,
  type AuditEvent,
  type DeliveryRecord,
  type EndpointPatch,
  type OutboxStore,
  type WebhookEndpointRecord,
} from '@jit-sso/core';
import { createAdminApi, createAdminService, type AdminCaller } from '../src/index.js';
import { A, B, endpointRoutes } from './admin-support.js';

/** The part of an outbox store that managing endpoints uses, in memory. */
class EndpointsInMemory {
  readonly endpoints = new Map<string, WebhookEndpointRecord>();
  readonly deliveries: DeliveryRecord[] = [];
  readonly audit: AuditEvent[] = [];
  claimDeliveries = async () => [];
  async findEndpoint(id: string) {
    return this.endpoints.get(id) ?? null;
  }
  async listEndpoints(tenantId?: string) {
    return [...this.endpoints.values()].filter((e) => tenantId === undefined || e.tenantId === tenantId);
  }
  async insertEndpoint(endpoint: WebhookEndpointRecord, audit: AuditEvent | null) {
    this.endpoints.set(endpoint.id, endpoint);
    if (audit) this.audit.push(audit);
    return endpoint;
  }
  async updateEndpoint(id: string, patch: EndpointPatch, audit: AuditEvent | null) {
    const updated = { ...this.endpoints.get(id)!, ...patch };
    this.endpoints.set(id, updated);
    if (audit) this.audit.push(audit);
    return updated;
  }
  private tenantOf(d: DeliveryRecord) {
    return this.endpoints.get(d.endpointId)?.tenantId;
  }
  async listDeliveries(q: {
    endpointId?: string;
    tenantId?: string;
    status?: string;
    eventId?: string;
    limit: number;
  }) {
    return this.deliveries
      .filter(
        (d) =>
          (q.endpointId === undefined || d.endpointId === q.endpointId) &&
          (q.tenantId === undefined || this.tenantOf(d) === q.tenantId) &&
          (q.status === undefined || d.status === q.status) &&
          (q.eventId === undefined || d.eventId === q.eventId),
      )
      .slice(0, q.limit);
  }
  async redeliver(
    q: { endpointId?: string; eventId?: string; tenantId?: string; status?: string },
    at: Date,
  ) {
    const matching = await this.listDeliveries({ ...q, status: q.status ?? 'dead', limit: 1000 });
    for (const d of matching) {
      const i = this.deliveries.indexOf(d);
      this.deliveries[i] = { ...d, status: 'pending', attempts: 0, nextAttemptAt: at, deliveredAt: null };
    }
    return matching.length;
  }
}

const resolve = async (host: string) =>
  host === 'internal.acme.test'
    ? [{ address: '10.0.0.7', family: 4 }]
    : [{ address: '93.184.216.34', family: 4 }];

function setup(store: unknown = new EndpointsInMemory()) {
  const service = createAdminService({
    configuration: new MemoryConfigurationStore(),
    publicUrl: 'https://app.example.com',
    webhooks: { store: store as OutboxStore, resolve },
  });
  const api = createAdminApi(service);
  const call = (caller: AdminCaller, method: string, path: string, body?: unknown) => {
    const [pathname, search] = path.split('?');
    return api.handle({ method, path: pathname!, query: new URLSearchParams(search ?? ''), body, caller });
  };
  return { service, call, store: store as EndpointsInMemory };
}

const delivery = (endpointId: string, eventId: string, status: DeliveryRecord['status']): DeliveryRecord => ({
  id: `d-${eventId}`,
  eventId,
  endpointId,
  orderingKey: 'u1',
  status,
  attempts: 5,
  nextAttemptAt: new Date(),
  leaseUntil: null,
  lastError: 'HTTP 500',
  lastStatus: 500,
  deliveredAt: null,
  createdAt: new Date(),
});

describe('webhook endpoints through the admin API', () => {
  it('registers (secret once), lists without secrets, rotates with an overlap, pauses and resumes', async () => {
    const { call, store } = setup();
    const created = await call(A, 'POST', '/webhooks', {
      url: 'https://hooks.acme.test/jit',
      eventTypes: ['user.created', 'group.members_changed'],
    });
    expect(created.status).toBe(201);
    const { endpoint, secret } = created.body as { endpoint: { id: string }; secret: string };
    expect(secret).toMatch(/^whsec_/);
    expect(store.endpoints.get(endpoint.id)).toMatchObject({
      tenantId: 'acme',
      eventTypes: ['group.members_changed', 'user.created'],
    });
    // Audited with the administrator (a config.changed event).
    expect(store.audit.at(-1)).toMatchObject({
      actor: 'admin',
      subject: A.actor,
      reason: 'webhook-endpoint',
    });

    const listed = await call(A, 'GET', '/webhooks');
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject([
      { id: endpoint.id, url: 'https://hooks.acme.test/jit', paused: false },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');

    const rotated = await call(A, 'POST', `/webhooks/${endpoint.id}/rotate`, { overlapHours: 2 });
    expect(rotated.status).toBe(200);
    const next = rotated.body as { endpoint: { rotating: boolean }; secret: string };
    expect(next.secret).toMatch(/^whsec_/);
    expect(next.secret).not.toBe(secret);
    expect(next.endpoint.rotating).toBe(true);
    const record = store.endpoints.get(endpoint.id)!;
    expect([record.secret, record.previousSecret]).toEqual([next.secret, secret]);
    const overlap = record.previousSecretExpiresAt!.getTime() - record.updatedAt.getTime();
    expect(overlap).toBe(2 * 3_600_000);

    expect((await call(A, 'POST', `/webhooks/${endpoint.id}/pause`)).body).toMatchObject({ paused: true });
    expect(store.endpoints.get(endpoint.id)!.paused).toBe(true);
    expect((await call(A, 'POST', `/webhooks/${endpoint.id}/resume`)).body).toMatchObject({ paused: false });
  });

  it("lists the tenant's failures and redelivers one", async () => {
    const { call, store } = setup();
    const id = ((await call(A, 'POST', '/webhooks', { url: 'https://hooks.acme.test/a' })).body as any)
      .endpoint.id as string;
    store.deliveries.push(delivery(id, 'e1', 'dead'), delivery(id, 'e2', 'delivered'));
    const failures = await call(A, 'GET', `/webhooks/failures?endpointId=${id}`);
    expect(failures.status).toBe(200);
    expect((failures.body as DeliveryRecord[]).map((d) => d.eventId)).toEqual(['e1']);
    const redelivered = await call(A, 'POST', `/webhooks/${id}/deliveries/e1/redeliver`);
    expect(redelivered.status).toBe(200);
    expect(redelivered.body).toMatchObject({ eventId: 'e1', status: 'pending', attempts: 0 });
    const missing = await call(A, 'POST', `/webhooks/${id}/deliveries/nope/redeliver`);
    expect(missing.status).toBe(404);
    expect((missing.body as any).error.code).toBe('NOT_FOUND');
  });

  it("answers another tenant's endpoint as not found, and changes nothing", async () => {
    const { call, store } = setup();
    const { endpoint, secret } = (await call(A, 'POST', '/webhooks', { url: 'https://hooks.acme.test/a' }))
      .body as { endpoint: { id: string }; secret: string };
    store.deliveries.push(delivery(endpoint.id, 'e1', 'dead'));
    const before = structuredClone(store.endpoints.get(endpoint.id));
    const audited = store.audit.length;
    const connectionMissing = await call(B, 'GET', '/connections/acme-saml');
    for (const [method, path] of endpointRoutes(endpoint.id)) {
      const res = await call(B, method, path);
      expect(res.status, path).toBe(connectionMissing.status);
      expect((res.body as any).error.code).toBe('NOT_FOUND');
      expect(JSON.stringify(res.body)).not.toContain(secret);
    }
    expect((await call(B, 'GET', '/webhooks')).body).toEqual([]);
    expect((await call(B, 'GET', '/webhooks/failures')).body).toEqual([]);
    expect(store.endpoints.get(endpoint.id)).toEqual(before);
    expect(store.deliveries[0]!.status).toBe('dead');
    expect(store.audit).toHaveLength(audited);
  });

  it('refuses private addresses in production, unknown event types and bad input, with their codes', async () => {
    const { call, store } = setup();
    const cases: [unknown, number, string][] = [
      [{ url: 'https://internal.acme.test/x' }, 400, 'WEBHOOK_URL_REFUSED'],
      [{ url: 'https://127.0.0.1/x' }, 400, 'WEBHOOK_URL_REFUSED'],
      [{ url: 'http://hooks.acme.test/x' }, 400, 'WEBHOOK_URL_INVALID'],
      [
        { url: 'https://hooks.acme.test/x', eventTypes: ['user.created', 'user.nope'] },
        400,
        'WEBHOOK_EVENT_TYPE_UNKNOWN',
      ],
      [{ url: 'https://hooks.acme.test/x', eventTypes: [7] }, 400, 'WEBHOOK_EVENT_TYPE_UNKNOWN'],
      [{ url: 'https://hooks.acme.test/x', tenantId: 'globex' }, 400, 'INVALID_INPUT'],
      [{}, 400, 'INVALID_INPUT'],
    ];
    for (const [body, status, code] of cases) {
      const res = await call(A, 'POST', '/webhooks', body);
      expect([res.status, (res.body as any).error.code], JSON.stringify(body)).toEqual([status, code]);
      if (code.startsWith('WEBHOOK_')) expect((res.body as any).error.hint).toEqual(expect.any(String));
    }
    const unknown = await call(A, 'POST', '/webhooks', {
      url: 'https://hooks.acme.test/x',
      eventTypes: ['user.nope'],
    });
    expect((unknown.body as any).error.message).toContain('user.created');
    expect(store.endpoints.size).toBe(0);
    expect(store.audit).toHaveLength(0);
  });

  it('answers WEBHOOKS_UNAVAILABLE when the store keeps no outbox, or none is given', async () => {
    const withoutOutbox = setup(new MemoryStore());
    const bare = createAdminApi(
      createAdminService({
        configuration: new MemoryConfigurationStore(),
        publicUrl: 'https://app.example.com',
      }),
    );
    for (const res of [
      await withoutOutbox.call(A, 'GET', '/webhooks'),
      await withoutOutbox.call(A, 'POST', '/webhooks', { url: 'https://hooks.acme.test/x' }),
      await bare.handle({
        method: 'GET',
        path: '/webhooks',
        query: new URLSearchParams(),
        body: undefined,
        caller: A,
      }),
    ]) {
      expect(res.status).toBe(501);
      expect((res.body as any).error).toMatchObject({
        code: 'WEBHOOKS_UNAVAILABLE',
        hint: expect.stringContaining('webhooks'),
      });
    }
  });
});
