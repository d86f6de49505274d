import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createProvisioner, StoreConflictError } from '@jit-sso/core';
import { newUser, runStoreConformance } from '@jit-sso/core/testing';
import { createJitDataSource, migrate, TypeormStore } from '../src/index.js';
import { freshMysql } from './databases.js';
import {
  CONNECTION,
  conformanceDb,
  expectNoPendingSchemaChanges,
  expectOneWinner,
  expectSeatLimitHolds,
  profile,
} from './support.js';

let dataSource: DataSource;
const db = conformanceDb(() => dataSource);

beforeAll(async () => {
  const url = await freshMysql('jit_typeorm');
  dataSource = await createJitDataSource(url.replace(/^mysql:/, 'mariadb:'));
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
});
