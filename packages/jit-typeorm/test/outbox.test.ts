import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DataSource } from 'typeorm';
import {
  auditEvent,
  createDeliveryWorker,
  createProvisioner,
  JitError,
  listDeliveryFailures,
  listWebhookEndpoints,
  pauseWebhookEndpoint,
  redeliverWebhooks,
  registerWebhookEndpoint,
  rotateWebhookSecret,
  type DeliveryWorkerOptions,
  type LifecycleEvent,
} from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormStore } from '../src/index.js';
import { Receiver } from './receiver.js';
import { CONNECTION, profile, TENANT } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'jit-outbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const START = new Date('2030-01-01T00:00:00Z');
let dataSource: DataSource;
let store: TypeormStore;
let receiver: Receiver;
let n = 0;

beforeEach(async () => {
  // Simulated time: `Date` only (timers and I/O stay real), so that the reference verifier, which
  // checks webhook-timestamp against Date.now(), agrees with the worker's clock.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(START);
  dataSource = await createJitDataSource(`sqlite:${join(dir, `outbox-${++n}.db`)}`);
  await migrate(dataSource);
  store = new TypeormStore(dataSource);
  receiver = new Receiver();
  await receiver.start();
});

afterEach(async () => {
  vi.useRealTimers();
  await receiver.stop();
  await dataSource.destroy();
});

const advance = (ms: number) => vi.setSystemTime(new Date(Date.now() + ms));
const ctx = () => ({ store, mode: 'development' as const });
const worker = (options: Partial<DeliveryWorkerOptions> = {}) =>
  createDeliveryWorker({ store, mode: 'development', timeoutMs: 2000, random: () => 0.5, ...options });
const provisioner = () => createProvisioner({ store, connections: [CONNECTION] });

async function register(url = receiver.url) {
  return registerWebhookEndpoint(ctx(), { tenantId: TENANT, url });
}

describe('the outbox', () => {
  it('writes one event with each change, none for a login that changed nothing, and a refusal with its code and hint', async () => {
    const p = provisioner();
    const first = await p.provision({ connectionId: CONNECTION.id, profile: profile('ann') });
    await p.provision({ connectionId: CONNECTION.id, profile: profile('ann') });
    await p.deactivateUser(first.user.id, { reason: 'left' });
    await expect(p.provision({ connectionId: CONNECTION.id, profile: profile('ann') })).rejects.toThrow(
      JitError,
    );
    // Written with each change as a marker; dispatching makes the events.
    expect(await store.listEvents({ limit: 10 })).toEqual([]);
    expect(await store.dispatchEvents(100, new Date())).toBe(3);
    const events = await store.listEvents({ limit: 10 });
    expect(events.map((e) => e.type)).toEqual(['user.created', 'user.deactivated', 'login.refused']);
    expect(events[0]).toMatchObject({
      tenantId: TENANT,
      orderingKey: first.user.id,
      payload: { version: 1, actor: 'jit', userId: first.user.id, connectionId: CONNECTION.id },
    });
    expect(events[2]!.payload).toMatchObject({
      code: 'USER_DEACTIVATED',
      hint: expect.stringContaining('Reactivate'),
    });
    // The event ids are the audit ids: one stable id per change.
    const audit = await store.listAuditEvents({ limit: 10 });
    expect(events.map((e) => e.id)).toEqual(audit.filter((a) => a.action !== 'unchanged').map((a) => a.id));
    // No personal data beyond ids: no email, no subject anywhere in the payloads.
    expect(JSON.stringify(events)).not.toContain('ann@acme.test');
  });

  it('writes no event when the change rolls back', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.appendAudit(
          auditEvent({ tenantId: TENANT, actor: 'admin', action: 'deactivated', userId: 'u-1' }),
        );
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await store.dispatchEvents(100, new Date())).toBe(0);
    expect(await store.listEvents({ limit: 10 })).toEqual([]);
  });

  it('writes no event with events: false', async () => {
    const quiet = new TypeormStore(dataSource, { events: false });
    await createProvisioner({ store: quiet, connections: [CONNECTION] }).provision({
      connectionId: CONNECTION.id,
      profile: profile('quiet'),
    });
    expect(await quiet.listAuditEvents({ limit: 10 })).toHaveLength(1);
    expect(await store.dispatchEvents(100, new Date())).toBe(0);
  });
});

describe('delivery', () => {
  it('delivers every event after the receiver was down for ten minutes, each verified with the reference verifier', async () => {
    const { secret } = await register();
    const p = provisioner();
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      await p.provision({ connectionId: CONNECTION.id, profile: profile(name) });
    }
    await receiver.stop();
    const w = worker();
    const firstRun = await w.runOnce();
    // The endpoint's own `config.changed` plus five `user.created`.
    expect(firstRun).toMatchObject({ dispatched: 6, delivered: 0, failed: 6 });
    for (let t = 0; t < 10 * 60; t += 15) {
      advance(15_000);
      await w.runOnce();
    }
    expect((await listDeliveryFailures(ctx())).length).toBe(6);
    await receiver.start();
    for (
      let t = 0;
      t < 60 * 60 && (await store.listDeliveries({ status: 'delivered', limit: 100 })).length < 6;
      t += 30
    ) {
      advance(30_000);
      await w.runOnce();
    }
    const verified = receiver.verified(secret);
    expect(verified.map((v) => v.type).sort()).toEqual([
      'config.changed',
      ...Array.from({ length: 5 }, () => 'user.created'),
    ]);
    expect(new Set(verified.map((v) => v.id)).size).toBe(6);
    expect(await listDeliveryFailures(ctx())).toEqual([]);
  }, 30_000);

  it("sends one user's events in order, even when one of them has to be retried", async () => {
    const { secret } = await register();
    const p = provisioner();
    const { user } = await p.provision({ connectionId: CONNECTION.id, profile: profile('ord') });
    await p.deactivateUser(user.id);
    await p.reactivateUser(user.id);
    await p.deactivateUser(user.id);
    let refusedOnce = false;
    receiver.answer = (r) => {
      if (!refusedOnce && r.body.includes('"user.deactivated"')) {
        refusedOnce = true;
        return { status: 500 };
      }
      return { status: 200 };
    };
    const w = worker();
    await w.runOnce();
    for (let i = 0; i < 20; i++) {
      advance(10_000);
      await w.runOnce();
    }
    const userEvents = receiver
      .verified(secret)
      .filter((v) => v.data['userId'] === user.id)
      .map((v) => v.type);
    // The refused one is sent again before anything after it.
    expect(userEvents).toEqual([
      'user.created',
      'user.deactivated',
      'user.deactivated',
      'user.reactivated',
      'user.deactivated',
    ]);
    const sent = (await store.listEvents({ limit: 20 })).filter((e) => e.orderingKey === user.id);
    expect(receiver.received.filter((r) => r.body.includes(user.id)).map((r) => r.id)).toEqual([
      sent[0]!.id,
      sent[1]!.id,
      sent[1]!.id,
      sent[2]!.id,
      sent[3]!.id,
    ]);
  });

  it('retries an endpoint that answers 500 or never answers, with growing delays, then dead-letters it; redelivery sends it', async () => {
    const { endpoint } = await register();
    await provisioner().provision({ connectionId: CONNECTION.id, profile: profile('slow') });
    receiver.answer = (r) => (r.body.includes('user.created') ? 'hang' : { status: 500 });
    const w = worker({ timeoutMs: 200, retry: { baseMs: 1000, maxMs: 60_000, deadAfterMs: 10 * 60_000 } });
    await w.runOnce();
    const [hung] = await store
      .listDeliveries({ status: 'pending', limit: 10 })
      .then((d) => d.filter((x) => x.lastError?.includes('No answer')));
    expect(hung).toBeDefined();
    const [answered500] = (await store.listDeliveries({ status: 'pending', limit: 10 })).filter(
      (d) => d.lastStatus === 500,
    );
    expect(answered500).toMatchObject({ attempts: 1, lastError: 'The endpoint answered 500.' });
    // Equal jitter with random 0.5: 750 ms after the first failure, then 1.5 s, 3 s, ...
    expect(answered500!.nextAttemptAt.getTime() - Date.now()).toBe(750);
    const gaps: number[] = [];
    let last = Date.now();
    for (let i = 0; i < 40; i++) {
      const [d] = await store.listDeliveries({ eventId: answered500!.eventId, limit: 1 });
      if (d!.status === 'dead') break;
      if (d!.nextAttemptAt.getTime() !== last) {
        gaps.push(d!.nextAttemptAt.getTime() - Date.now());
        last = d!.nextAttemptAt.getTime();
      }
      vi.setSystemTime(d!.nextAttemptAt);
      await w.runOnce();
    }
    expect(gaps.slice(0, 4)).toEqual([750, 1500, 3000, 6000]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(60_000);
    const failures = await listDeliveryFailures(ctx(), { endpointId: endpoint.id });
    expect(failures.filter((f) => f.status === 'dead')).toHaveLength(2);
    receiver.answer = () => ({ status: 204 });
    expect(await redeliverWebhooks(ctx(), { endpointId: endpoint.id })).toBe(2);
    expect(await w.runOnce()).toMatchObject({ delivered: 2 });
    expect(await listDeliveryFailures(ctx())).toEqual([]);
  }, 30_000);

  it('signs with the old and the new secret while a rotation overlaps, then with the new one only', async () => {
    const { endpoint, secret: old } = await register();
    const { secret: fresh } = await rotateWebhookSecret(ctx(), endpoint.id, { overlapMs: 60_000 });
    await provisioner().provision({ connectionId: CONNECTION.id, profile: profile('rot1') });
    const w = worker();
    await w.runOnce();
    expect(receiver.received.length).toBeGreaterThan(0);
    expect(receiver.verified(old).length).toBe(receiver.received.length);
    expect(receiver.verified(fresh).length).toBe(receiver.received.length);
    advance(120_000);
    receiver.received.length = 0;
    await provisioner().provision({ connectionId: CONNECTION.id, profile: profile('rot2') });
    await w.runOnce();
    expect(receiver.verified(fresh)).toHaveLength(1);
    expect(() => receiver.verified(old)).toThrow();
    expect((await listWebhookEndpoints(ctx(), TENANT))[0]).not.toHaveProperty('secret');
  });

  it('holds the deliveries of a paused endpoint and sends them when it resumes', async () => {
    const { endpoint } = await register();
    await pauseWebhookEndpoint(ctx(), endpoint.id, true);
    await provisioner().provision({ connectionId: CONNECTION.id, profile: profile('paused') });
    const w = worker();
    expect(await w.runOnce()).toMatchObject({ delivered: 0 });
    expect(receiver.received).toHaveLength(0);
    await pauseWebhookEndpoint(ctx(), endpoint.id, false);
    // The endpoint's creation, the pause and the resume, and the user.
    expect(await w.runOnce()).toMatchObject({ delivered: 4 });
  });

  it('dead-letters a payload over the limit at once', async () => {
    await register();
    const w = worker({ maxPayloadBytes: 100 });
    expect(await w.runOnce()).toMatchObject({ dead: 1 });
    const [dead] = await listDeliveryFailures(ctx());
    expect(dead!.lastError).toMatch(/^PAYLOAD_TOO_LARGE/);
    expect(receiver.received).toHaveLength(0);
  });

  it('feeds in-process subscribers from the outbox, again after they throw', async () => {
    const seen: LifecycleEvent[] = [];
    let fail = true;
    const w = worker({
      http: false,
      subscribers: {
        workspaces: (event) => {
          if (fail) {
            fail = false;
            throw new Error('not yet');
          }
          seen.push(event);
        },
      },
      logger: { error: () => undefined },
    });
    await w.runOnce();
    await provisioner().provision({ connectionId: CONNECTION.id, profile: profile('sub') });
    expect(await w.runOnce()).toMatchObject({ failed: 1 });
    advance(60_000);
    expect(await w.runOnce()).toMatchObject({ delivered: 1 });
    expect(seen.map((e) => e.type)).toEqual(['user.created']);
  });

  it('runs as a loop started by the app, woken after a commit', async () => {
    const { secret } = await register();
    vi.useRealTimers();
    const w = createDeliveryWorker({ store, mode: 'development', pollMs: 60_000 });
    w.start();
    await provisioner().provision({ connectionId: CONNECTION.id, profile: profile('loop') });
    w.notify();
    for (let i = 0; i < 100 && receiver.received.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await w.stop();
    expect(receiver.verified(secret).map((v) => v.type)).toEqual(['config.changed', 'user.created']);
  });
});

describe('endpoints in production mode', () => {
  const resolve = async (host: string) =>
    host === 'hooks.example.com'
      ? [{ address: '93.184.215.14', family: 4 }]
      : host === 'internal.example.com'
        ? [{ address: '10.0.0.7', family: 4 }]
        : [{ address: '127.0.0.1', family: 4 }];
  const prod = () => ({ store, mode: 'production' as const, resolve });

  it.each([
    ['http://hooks.example.com/x', 'WEBHOOK_URL_INVALID'],
    ['https://user:pw@hooks.example.com/x', 'WEBHOOK_URL_INVALID'],
    ['ftp://hooks.example.com/x', 'WEBHOOK_URL_INVALID'],
    ['not a url', 'WEBHOOK_URL_INVALID'],
    ['https://localhost/x', 'WEBHOOK_URL_REFUSED'],
    ['https://internal.example.com/x', 'WEBHOOK_URL_REFUSED'],
    ['https://127.0.0.1/x', 'WEBHOOK_URL_REFUSED'],
    ['https://[::1]/x', 'WEBHOOK_URL_REFUSED'],
    ['https://[::ffff:192.168.1.1]/x', 'WEBHOOK_URL_REFUSED'],
    ['https://169.254.169.254/latest', 'WEBHOOK_URL_REFUSED'],
  ])('refuses %s with %s (400)', async (url, code) => {
    const refused = await registerWebhookEndpoint(prod(), { tenantId: TENANT, url }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(JitError);
    expect(refused).toMatchObject({ code, httpStatus: 400 });
    expect(await store.listEndpoints()).toEqual([]);
  });

  it('accepts a public https endpoint, and refuses at delivery a name that now resolves to a private address', async () => {
    const { endpoint } = await registerWebhookEndpoint(prod(), {
      tenantId: TENANT,
      url: 'https://hooks.example.com/x',
    });
    expect(endpoint.url).toBe('https://hooks.example.com/x');
    // The name moves to the loopback address (DNS rebinding): the connection is refused, for good.
    const w = createDeliveryWorker({
      store,
      mode: 'production',
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    expect(await w.runOnce()).toMatchObject({ dead: 1, delivered: 0 });
    const [dead] = await listDeliveryFailures(prod());
    expect(dead!.lastError).toMatch(/^WEBHOOK_URL_REFUSED/);
  });
});
