import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createProvisioner, StoreError, type JitError } from '@jit-sso/core';
import { runStoreConformance } from '@jit-sso/core/testing';
import { createJitDataSource, migrate, TypeormStore } from '../src/index.js';
import {
  CONNECTION,
  conformanceDb,
  expectNoPendingSchemaChanges,
  expectOneUseOfAMessage,
  expectOneWinner,
  expectSeatLimitHolds,
  profile,
} from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'jit-typeorm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite file (WAL), migrated', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await createJitDataSource(`sqlite:${join(dir, 'jit.db')}`);
    expect(await migrate(dataSource)).toContain('JitInitSqlite1795439311928');
  });
  afterAll(() => dataSource?.destroy());

  const db = conformanceDb(() => dataSource);
  runStoreConformance({
    name: 'sqlite file',
    store: () => new TypeormStore(dataSource),
    db,
    concurrency: 30,
  });

  it('runs in WAL mode with a busy timeout and a 64 MiB page cache', async () => {
    expect(await dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await dataSource.query('PRAGMA busy_timeout')).toEqual([{ timeout: 5000 }]);
    expect(await dataSource.query('PRAGMA cache_size')).toEqual([{ cache_size: -65536 }]);
  });

  it('takes another page cache size, and refuses one that is not a positive size', async () => {
    const small = await createJitDataSource('sqlite::memory:', { sqliteCacheMiB: 8 });
    try {
      expect(await small.query('PRAGMA cache_size')).toEqual([{ cache_size: -8192 }]);
    } finally {
      await small.destroy();
    }
    await expect(createJitDataSource('sqlite::memory:', { sqliteCacheMiB: 0 })).rejects.toThrow(
      'sqliteCacheMiB must be a positive number of MiB, not 0.',
    );
  });

  it('has nothing left to migrate, and the migrations match the entities', async () => {
    expect(await migrate(dataSource)).toEqual([]);
    await expectNoPendingSchemaChanges(dataSource);
  });

  it('accepts one of 20 simultaneous logins with the same SAML message', async () => {
    await expectOneUseOfAMessage([new TypeormStore(dataSource)], 20);
  });

  it('ends 100 simultaneous first logins of one subject with one user', async () => {
    await db.reset();
    await expectOneWinner(new TypeormStore(dataSource), db, 100);
  });

  it('holds a seat limit of 50 under 100 simultaneous first logins', async () => {
    await db.reset();
    await expectSeatLimitHolds(new TypeormStore(dataSource), db, 100, 50);
  });

  it('keeps dates as UTC milliseconds and JSON as text', async () => {
    await db.reset();
    const store = new TypeormStore(dataSource);
    const at = new Date('2026-03-29T01:30:00.007Z');
    const provisioner = createProvisioner({ store, connections: [CONNECTION], now: () => at });
    const { user } = await provisioner.provision({ connectionId: CONNECTION.id, profile: profile('dates') });
    const [row] = await dataSource.query(
      'SELECT created_at, last_login_at, roles FROM jit_users WHERE id = ?',
      [user.id],
    );
    expect(row).toEqual({ created_at: at.getTime(), last_login_at: at.getTime(), roles: '[]' });
    expect((await store.findUserById(user.id))!.createdAt.toISOString()).toBe('2026-03-29T01:30:00.007Z');
  });
});

describe('SQLite in memory, synchronised from the entities', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await createJitDataSource('sqlite::memory:', { synchronize: true });
  });
  afterAll(() => dataSource?.destroy());
  runStoreConformance({
    name: 'sqlite :memory:',
    store: () => new TypeormStore(dataSource),
    db: conformanceDb(() => dataSource),
  });
});

describe('SQLite failures', () => {
  it('reports a closed database as STORE_FAILURE, from the store and through the engine', async () => {
    const dataSource = await createJitDataSource('sqlite::memory:', { synchronize: true });
    const store = new TypeormStore(dataSource);
    await store.findUserById('x');
    const provisioner = createProvisioner({ store, connections: [CONNECTION] });
    await dataSource.destroy();
    await expect(store.findUserById('x')).rejects.toBeInstanceOf(StoreError);
    const error = (await provisioner
      .provision({ connectionId: CONNECTION.id, profile: profile('x') })
      .catch((e) => e)) as JitError;
    expect(error).toBeInstanceOf(StoreError);
    expect(error.code).toBe('STORE_FAILURE');
    expect(error.httpStatus).toBe(503);
  });

  it('refuses a DataSource that is not initialised, or lacks the entities, with StoreError', async () => {
    const dataSource = await createJitDataSource('sqlite::memory:', { synchronize: true });
    await dataSource.destroy();
    await expect(new TypeormStore(dataSource).findUserById('x')).rejects.toThrow(/not initialised/);
    const { DataSource } = await import('typeorm');
    const bare = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    await bare.initialize();
    await expect(new TypeormStore(bare).transaction(async () => 1)).rejects.toThrow(/jitEntities/);
    await bare.destroy();
  });
});
