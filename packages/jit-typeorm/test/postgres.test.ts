import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createProvisioner, StoreError, uuidv7, type JitError, type StoreTransaction } from '@jit-sso/core';
import { newUser, runStoreConformance } from '@jit-sso/core/testing';
import { createJitDataSource, migrate, TypeormStore } from '../src/index.js';
import { freshPostgres } from './databases.js';
import {
  CONNECTION,
  conformanceDb,
  expectNoPendingSchemaChanges,
  expectOneUseOfAMessage,
  expectOneWinner,
  expectSeatLimitHolds,
  profile,
  TENANT,
} from './support.js';

const DATABASE = 'jit_typeorm';
let url: string;
let dataSource: DataSource;
const db = conformanceDb(() => dataSource);

beforeAll(async () => {
  url = await freshPostgres(DATABASE);
  dataSource = await createJitDataSource(url);
  expect(await migrate(dataSource)).toContain('JitInitPostgres1795439311928');
});
afterAll(() => dataSource?.destroy());

runStoreConformance({ name: 'postgres', store: () => new TypeormStore(dataSource), db, concurrency: 30 });

describe('PostgreSQL', () => {
  it('has nothing left to migrate, and the migrations match the entities', async () => {
    expect(await migrate(dataSource)).toEqual([]);
    await expectNoPendingSchemaChanges(dataSource);
  });

  it('ends 100 simultaneous first logins of one subject with one user, one identity, one created event', async () => {
    await db.reset();
    await expectOneWinner(new TypeormStore(dataSource), db, 100);
  });

  it('accepts one of 20 simultaneous logins with the same SAML message, across two copies of the app', async () => {
    const other = await createJitDataSource(url);
    try {
      await expectOneUseOfAMessage([new TypeormStore(dataSource), new TypeormStore(other)], 20);
    } finally {
      await other.destroy();
    }
  });

  it('holds a seat limit of 50 under 100 simultaneous first logins of different people', async () => {
    await db.reset();
    await expectSeatLimitHolds(new TypeormStore(dataSource), db, 100, 50);
  });

  it.each([
    // A seat limit opens a transaction (tenant lock) before the inserts: the backend dies "idle in transaction".
    ['inside an open transaction', 5, 'idle in transaction'],
    // Without one, the reads ran and the writes are about to go out as one statement: the backend dies idle.
    ['between the reads and the writes', undefined, 'idle'],
  ])(
    'ends a login whose connection is killed %s as STORE_FAILURE, with nothing half written',
    async (_when, seatLimit, state) => {
      await db.reset();
      const store = new TypeormStore(dataSource);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      let killed = 0;
      // The connection dies between the user insert and the identity insert of a first login.
      const sabotaged: TypeormStore = Object.create(store, {
        transaction: {
          value: <T>(work: (tx: StoreTransaction) => Promise<T>) =>
            store.transaction((tx) =>
              work(
                Object.assign(Object.create(tx) as StoreTransaction, {
                  insertIdentity: async (...args: Parameters<StoreTransaction['insertIdentity']>) => {
                    const { rows } = await admin.query(
                      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
                        WHERE datname = $1 AND pid <> pg_backend_pid() AND state = $2`,
                      [DATABASE, state],
                    );
                    killed += rows.filter((r: { killed: boolean }) => r.killed).length;
                    return tx.insertIdentity(...args);
                  },
                }),
              ),
            ),
        },
      });
      const tenants = seatLimit === undefined ? [] : [{ id: TENANT, seatLimit }];
      try {
        const provisioner = createProvisioner({ store: sabotaged, connections: [CONNECTION], tenants });
        const error = (await provisioner
          .provision({ connectionId: CONNECTION.id, profile: profile('victim') })
          .catch((e) => e)) as JitError;
        expect(killed).toBeGreaterThanOrEqual(1);
        // Idle pool connections died too: give the pool a moment to notice before reading.
        await new Promise((resolve) => setTimeout(resolve, 250));
        expect(error).toBeInstanceOf(StoreError);
        expect(error.code).toBe('STORE_FAILURE');
        expect(await db.count('users')).toBe(0);
        expect(await db.count('identities')).toBe(0);
        const events = await store.listAuditEvents({ tenantId: TENANT, limit: 10 });
        // The denial is audited when the store answers again in time; the decision itself left nothing.
        expect(events.map((e) => [e.action, e.reason])).toEqual(
          events.length ? [['denied', 'STORE_FAILURE']] : [],
        );

        // The pool drops the dead connection; the next login works.
        const again = await createProvisioner({ store, connections: [CONNECTION], tenants }).provision({
          connectionId: CONNECTION.id,
          profile: profile('victim'),
        });
        expect(again.action).toBe('created');
        expect(await db.count('users')).toBe(1);
      } finally {
        await admin.end();
      }
    },
  );

  it('writes an insert and an update of the same user in order within one transaction', async () => {
    await db.reset();
    const store = new TypeormStore(dataSource);
    const user = newUser();
    const at = new Date('2026-05-01T00:00:00.000Z');
    await store.transaction(async (tx) => {
      await tx.insertUser(user);
      const updated = await tx.updateUser(user.id, {
        status: 'deactivated',
        deactivatedAt: at,
        updatedAt: at,
      });
      expect(updated.status).toBe('deactivated');
    });
    expect(await store.findUserById(user.id)).toMatchObject({
      status: 'deactivated',
      deactivatedAt: at,
      updatedAt: at,
    });
  });

  it('writes nothing when the user it updates vanished after it was read', async () => {
    await db.reset();
    const store = new TypeormStore(dataSource);
    const user = newUser();
    await store.transaction((tx) => tx.insertUser(user));
    const error = await store
      .transaction(async (tx) => {
        await tx.findUserById(user.id);
        await dataSource.query('DELETE FROM jit_users WHERE id = $1', [user.id]);
        const at = new Date();
        await tx.updateUser(user.id, { lastLoginAt: at, updatedAt: at });
        await tx.appendAudit({
          id: uuidv7(at),
          at,
          tenantId: user.tenantId,
          actor: 'jit',
          action: 'unchanged',
          connectionId: 'c1',
          subject: 's1',
          userId: user.id,
          reason: null,
          changes: [],
        });
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(await db.count('audit')).toBe(0);
  });

  it('reports an unreachable server as STORE_FAILURE', async () => {
    const down = await createJitDataSource(url);
    const store = new TypeormStore(down);
    await down.destroy();
    const error = (await createProvisioner({ store, connections: [CONNECTION] })
      .provision({ connectionId: CONNECTION.id, profile: profile('nobody') })
      .catch((e) => e)) as JitError;
    expect(error.code).toBe('STORE_FAILURE');
  });
});
