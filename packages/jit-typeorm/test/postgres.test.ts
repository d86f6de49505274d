import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createProvisioner, StoreError, type JitError, type StoreTransaction } from '@jit-sso/core';
import { runStoreConformance } from '@jit-sso/core/testing';
import { createJitDataSource, migrate, TypeormStore } from '../src/index.js';
import { freshPostgres } from './databases.js';
import {
  CONNECTION,
  conformanceDb,
  expectNoPendingSchemaChanges,
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

  it('holds a seat limit of 50 under 100 simultaneous first logins of different people', async () => {
    await db.reset();
    await expectSeatLimitHolds(new TypeormStore(dataSource), db, 100, 50);
  });

  it('ends a login whose connection is killed mid-transaction as STORE_FAILURE, with nothing half written', async () => {
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
                      WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'idle in transaction'`,
                    [DATABASE],
                  );
                  killed += rows.filter((r: { killed: boolean }) => r.killed).length;
                  return tx.insertIdentity(...args);
                },
              }),
            ),
          ),
      },
    });
    try {
      const provisioner = createProvisioner({ store: sabotaged, connections: [CONNECTION] });
      const error = (await provisioner
        .provision({ connectionId: CONNECTION.id, profile: profile('victim') })
        .catch((e) => e)) as JitError;
      expect(killed).toBe(1);
      expect(error).toBeInstanceOf(StoreError);
      expect(error.code).toBe('STORE_FAILURE');
      expect(await db.count('users')).toBe(0);
      expect(await db.count('identities')).toBe(0);
      const events = await store.listAuditEvents({ tenantId: TENANT, limit: 10 });
      expect(events.map((e) => [e.action, e.reason])).toEqual([['denied', 'STORE_FAILURE']]);

      // The pool drops the dead connection; the next login works.
      const again = await createProvisioner({ store, connections: [CONNECTION] }).provision({
        connectionId: CONNECTION.id,
        profile: profile('victim'),
      });
      expect(again.action).toBe('created');
      expect(await db.count('users')).toBe(1);
    } finally {
      await admin.end();
    }
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
