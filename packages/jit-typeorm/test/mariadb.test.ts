import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import mysql from 'mysql2/promise';
import {
  createProvisioner,
  StoreConflictError,
  StoreError,
  type JitError,
  type StoreTransaction,
} from '@jit-sso/core';
import { newUser, runStoreConformance } from '@jit-sso/core/testing';
import { createJitDataSource, migrate, TypeormStore } from '../src/index.js';
import { freshMysql, MYSQL_SERVER } from './databases.js';
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

let dataSource: DataSource;
let url: string;
const db = conformanceDb(() => dataSource);

beforeAll(async () => {
  url = (await freshMysql('jit_typeorm')).replace(/^mysql:/, 'mariadb:');
  dataSource = await createJitDataSource(url);
  expect(await migrate(dataSource)).toContain('JitInitMysql1795439311928');
});
afterAll(() => dataSource?.destroy());

runStoreConformance({ name: 'mariadb', store: () => new TypeormStore(dataSource), db, concurrency: 30 });

describe('MariaDB', () => {
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

  it('treats subjects that differ only in case as different people (binary collation)', async () => {
    await db.reset();
    const provisioner = createProvisioner({ store: new TypeormStore(dataSource), connections: [CONNECTION] });
    const upper = await provisioner.provision({
      connectionId: CONNECTION.id,
      profile: profile('AbC', 'upper@acme.test'),
    });
    const lower = await provisioner.provision({
      connectionId: CONNECTION.id,
      profile: profile('abc', 'lower@acme.test'),
    });
    expect(lower.action).toBe('created');
    expect(lower.user.id).not.toBe(upper.user.id);
    expect(await db.count('identities')).toBe(2);
  });

  it('names the unique key a duplicate hit', async () => {
    await db.reset();
    const store = new TypeormStore(dataSource);
    const user = newUser();
    await store.transaction((tx) => tx.insertUser(user));
    const error = await store.transaction((tx) => tx.insertUser({ ...user, id: 'other-id' })).catch((e) => e);
    expect(error).toBeInstanceOf(StoreConflictError);
    expect((error as StoreConflictError).constraint).toBe('email');
  });

  it('ends a login whose connection is killed mid-transaction as STORE_FAILURE, with nothing half written', async () => {
    await db.reset();
    const store = new TypeormStore(dataSource);
    const admin = await mysql.createConnection(`${MYSQL_SERVER}/jit_typeorm`);
    let killed = 0;
    const sabotaged: TypeormStore = Object.create(store, {
      transaction: {
        value: <T>(work: (tx: StoreTransaction) => Promise<T>) =>
          store.transaction((tx) =>
            work(
              Object.assign(Object.create(tx) as StoreTransaction, {
                insertIdentity: async (...args: Parameters<StoreTransaction['insertIdentity']>) => {
                  // Every connection of the pool sits between statements: the login's holds its open transaction.
                  const [rows] = await admin.query(
                    `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = 'jit_typeorm' AND COMMAND = 'Sleep' AND ID <> CONNECTION_ID()`,
                  );
                  for (const { id } of rows as { id: number }[]) {
                    await admin.query(`KILL CONNECTION ${Number(id)}`);
                    killed++;
                  }
                  return tx.insertIdentity(...args);
                },
              }),
            ),
          ),
      },
    });
    try {
      const tenants = [{ id: TENANT, seatLimit: 5 }];
      const error = (await createProvisioner({ store: sabotaged, connections: [CONNECTION], tenants })
        .provision({ connectionId: CONNECTION.id, profile: profile('victim') })
        .catch((e) => e)) as JitError;
      expect(killed).toBeGreaterThanOrEqual(1);
      expect(error).toBeInstanceOf(StoreError);
      expect(error.code).toBe('STORE_FAILURE');
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await db.count('users')).toBe(0);
      expect(await db.count('identities')).toBe(0);
      const again = await createProvisioner({ store, connections: [CONNECTION], tenants }).provision({
        connectionId: CONNECTION.id,
        profile: profile('victim'),
      });
      expect(again.action).toBe('created');
    } finally {
      await admin.end();
    }
  });
});
