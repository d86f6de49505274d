import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import {
  createDeliveryWorker,
  createProvisioner,
  listDeliveryFailures,
  listWebhookEndpoints,
  pauseWebhookEndpoint,
  redeliverWebhooks,
  registerWebhookEndpoint,
  rotateWebhookSecret,
} from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormStore } from '../src/index.js';
import { freshMysql, freshPostgres, MYSQL_SERVER, POSTGRES_SERVER } from './databases.js';
import { Receiver } from './receiver.js';
import { CONNECTION, profile, TENANT } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'jit-outbox-concurrency-'));
const suffix = randomBytes(4).toString('hex');
const dropped: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of dropped) await drop();
  rmSync(dir, { recursive: true, force: true });
});

const targets: Record<string, () => Promise<string>> = {
  sqlite: async () => `sqlite:${join(dir, 'shared.db')}`,
  postgres: async () => {
    const name = `jit_outbox_${suffix}`;
    dropped.push(async () => {
      const admin = new pg.Client({ connectionString: `${POSTGRES_SERVER}/test` });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => admin.end());
    });
    return freshPostgres(name);
  },
  mariadb: async () => {
    const name = `jit_outbox_${suffix}`;
    dropped.push(async () => {
      const admin = await mysql.createConnection(MYSQL_SERVER);
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).finally(() => admin.end());
    });
    return freshMysql(name);
  },
};

// On SQLite, two workers in one process would wait for each other's write lock on the event loop
// they share: there they run as two processes (outbox-processes.test.ts).
describe.each(['postgres', 'mariadb'])('two delivery workers on %s', (dialect) => {
  it('never send one event at the same time, deliver each once, and keep each user’s order', async () => {
    const url = await targets[dialect]!();
    const sources: DataSource[] = [];
    const receiver = new Receiver();
    await receiver.start();
    try {
      // Two DataSources: two pools (two connections to one SQLite file), as two processes would have.
      for (let i = 0; i < 2; i++) sources.push(await createJitDataSource(url));
      await migrate(sources[0]!);
      const [a, b] = sources.map((s) => new TypeormStore(s)) as [TypeormStore, TypeormStore];
      const { secret } = await registerWebhookEndpoint(
        { store: a, mode: 'development' },
        { tenantId: TENANT, url: receiver.url },
      );
      const provisioner = createProvisioner({ store: a, connections: [CONNECTION] });
      const users: string[] = [];
      for (let i = 0; i < 12; i++) {
        const { user } = await provisioner.provision({
          connectionId: CONNECTION.id,
          profile: profile(`c${i}`),
        });
        users.push(user.id);
        await provisioner.deactivateUser(user.id);
        await provisioner.reactivateUser(user.id);
      }
      // Each answer takes a while, so that both workers have deliveries in flight together.
      receiver.answer = () => ({ status: 200, delayMs: 15 });
      const workers = [a, b].map((store) =>
        createDeliveryWorker({ store, mode: 'development', batchSize: 4, leaseMs: 60_000 }),
      );
      // Two loops per worker, all at once, until every delivery is done.
      for (let round = 0; round < 10; round++) {
        const runs = await Promise.all(workers.flatMap((w) => [w.runOnce(), w.runOnce()]));
        if (runs.every((r) => r.delivered === 0)) break;
      }
      // Requests overlapped: the workers really sent at the same time.
      expect(receiver.maxInFlight).toBeGreaterThan(1);
      const events = await a.listEvents({ limit: 100 });
      expect(events).toHaveLength(1 + 12 * 3);
      expect(receiver.maxInFlightPerId).toBe(1);
      const ids = receiver.received.map((r) => r.id);
      expect(ids).toHaveLength(events.length);
      expect(new Set(ids).size).toBe(events.length);
      expect(await a.listDeliveries({ status: 'delivered', limit: 100 })).toHaveLength(events.length);
      // Per user: created, deactivated, reactivated, in that order.
      const verified = receiver.verified(secret);
      for (const userId of users) {
        expect(verified.filter((v) => v.data['userId'] === userId).map((v) => v.type)).toEqual([
          'user.created',
          'user.deactivated',
          'user.reactivated',
        ]);
      }
    } finally {
      await receiver.stop();
      for (const s of sources) await s.destroy();
    }
  }, 60_000);
});

describe.each(Object.keys(targets))('delivery leases on %s', (dialect) => {
  it('lets a second worker take over a delivery whose worker died before finishing it', async () => {
    const url = await targets[dialect]!();
    const source = await createJitDataSource(url);
    const other = await createJitDataSource(url);
    const receiver = new Receiver();
    await receiver.start();
    try {
      await migrate(source);
      await source.query(`DELETE FROM jit_webhook_deliveries`);
      await source.query(`DELETE FROM jit_webhook_endpoints`);
      await source.query(`DELETE FROM jit_outbox_events`);
      const a = new TypeormStore(source);
      const b = new TypeormStore(other);
      await registerWebhookEndpoint(
        { store: a, mode: 'development' },
        { tenantId: TENANT, url: receiver.url },
      );
      const t0 = new Date();
      await a.dispatchEvents(10, t0);
      const claims = { now: t0, leaseMs: 30_000, limit: 10, http: true, subscribers: [] };
      const [held] = await a.claimDeliveries(claims);
      expect(held).toBeDefined();
      // While the lease runs, nobody else gets it.
      expect(await b.claimDeliveries(claims)).toEqual([]);
      // The holder never finishes (its process died); after the lease another worker sends it.
      const later = createDeliveryWorker({
        store: b,
        mode: 'development',
        now: () => new Date(t0.getTime() + 31_000),
      });
      expect(await later.runOnce()).toMatchObject({ delivered: 1 });
      // The first holder's late answer changes nothing.
      await a.finishDelivery(held!.delivery.id, held!.delivery.attempts, {
        kind: 'failed',
        at: t0,
        error: 'late',
        status: null,
        retryAt: t0,
      });
      expect(await a.listDeliveries({ status: 'delivered', limit: 10 })).toHaveLength(1);
    } finally {
      await receiver.stop();
      await source.destroy();
      await other.destroy();
    }
  }, 60_000);

  it('manages endpoints the same way: rotation, pause, failures and redelivery', async () => {
    const url = await targets[dialect]!();
    const source = await createJitDataSource(url);
    const receiver = new Receiver();
    await receiver.start();
    try {
      await migrate(source);
      for (const table of [
        'jit_webhook_deliveries',
        'jit_webhook_endpoints',
        'jit_outbox_events',
        'jit_outbox_pending',
      ]) {
        await source.query(`DELETE FROM ${table}`);
      }
      const store = new TypeormStore(source);
      const ctx = { store, mode: 'development' as const };
      const { endpoint, secret } = await registerWebhookEndpoint(ctx, {
        tenantId: TENANT,
        url: receiver.url,
      });
      const { secret: fresh } = await rotateWebhookSecret(ctx, endpoint.id, { overlapMs: 3_600_000 });
      await pauseWebhookEndpoint(ctx, endpoint.id, true);
      expect(await listWebhookEndpoints(ctx, TENANT)).toEqual([
        expect.objectContaining({ id: endpoint.id, paused: true, rotating: true }),
      ]);
      const worker = createDeliveryWorker({ store, mode: 'development', retry: { deadAfterMs: 0 } });
      expect(await worker.runOnce()).toMatchObject({ dispatched: 3, delivered: 0 });
      await pauseWebhookEndpoint(ctx, endpoint.id, false);
      receiver.answer = () => ({ status: 503 });
      // Undeliverable and too old at once (deadAfterMs 0): dead, listed, then sent again.
      expect(await worker.runOnce()).toMatchObject({ dead: 4 });
      expect(await listDeliveryFailures(ctx, { tenantId: TENANT })).toHaveLength(4);
      receiver.answer = () => ({ status: 204 });
      receiver.received.length = 0;
      expect(await redeliverWebhooks(ctx, { tenantId: TENANT })).toBe(4);
      expect(await worker.runOnce()).toMatchObject({ delivered: 4 });
      expect(receiver.verified(secret)).toHaveLength(4);
      expect(receiver.verified(fresh)).toHaveLength(4);
      expect(await listDeliveryFailures(ctx)).toEqual([]);
      await worker.stop();
    } finally {
      await receiver.stop();
      await source.destroy();
    }
  }, 60_000);
});
