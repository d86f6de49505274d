import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Column, DataSource, Entity, Index, PrimaryColumn } from 'typeorm';
import { createProvisioner, type RoleGrant, type UserSource, type UserStatus } from '@jit-sso/core';
import { runStoreConformance } from '@jit-sso/core/testing';
import { jitEntitiesWithoutUser, jitUserColumns, TypeormStore } from '../src/index.js';
import { freshPostgres } from './databases.js';
import { CONNECTION, conformanceDb, profile } from './support.js';

/** An app's own user entity: its table name, its column names, its extra columns. */
@Entity('accounts')
@Index('UQ_accounts_org_email', ['tenantId', 'email'], { unique: true })
class Account {
  @PrimaryColumn(jitUserColumns.id) id!: string;
  @Column({ ...jitUserColumns.tenantId, name: 'org_id' }) tenantId!: string;
  @Column({ ...jitUserColumns.email, name: 'login_email' }) email!: string;
  @Column(jitUserColumns.status) status!: UserStatus;
  @Column(jitUserColumns.source) source!: UserSource;
  @Column(jitUserColumns.attributes) attributes!: Record<string, unknown>;
  @Column(jitUserColumns.roles) roles!: RoleGrant[];
  @Column(jitUserColumns.externalId) externalId!: string | null;
  @Column(jitUserColumns.createdAt) createdAt!: Date;
  @Column(jitUserColumns.updatedAt) updatedAt!: Date;
  @Column(jitUserColumns.lastLoginAt) lastLoginAt!: Date | null;
  @Column(jitUserColumns.deactivatedAt) deactivatedAt!: Date | null;

  // The app's own columns, which the store leaves to their defaults.
  @Column({ type: 'varchar', length: 32, default: 'free' }) plan!: string;
  @Column({ type: 'varchar', length: 200, nullable: true, name: 'stripe_customer' }) stripeCustomer!:
    string | null;
}

const options = {
  entities: [Account, ...jitEntitiesWithoutUser],
  synchronize: true,
};

describe.each([
  ['sqlite', async () => new DataSource({ type: 'better-sqlite3', database: ':memory:', ...options })],
  [
    'postgres',
    async () =>
      new DataSource({ type: 'postgres', url: await freshPostgres('jit_typeorm_custom'), ...options }),
  ],
])('an app’s own user entity on %s', (name, make) => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await make();
    await dataSource.initialize();
  });
  afterAll(() => dataSource?.destroy());

  runStoreConformance({
    name: `${name} with the app's Account entity`,
    store: () => new TypeormStore(dataSource, { userEntity: Account }),
    db: conformanceDb(() => dataSource, 'accounts', 'org_id'),
  });

  it('provisions into the app’s table, which the app reads with its own repository', async () => {
    await conformanceDb(() => dataSource, 'accounts', 'org_id').reset();
    const store = new TypeormStore(dataSource, { userEntity: Account });
    const provisioner = createProvisioner({
      store,
      connections: [{ ...CONNECTION, jit: { ...CONNECTION.jit, defaultRoles: ['viewer'] } }],
    });
    const { user } = await provisioner.provision({ connectionId: CONNECTION.id, profile: profile('ann') });

    const repository = dataSource.getRepository(Account);
    const account = await repository.findOneByOrFail({ email: 'ann@acme.test' });
    expect(account).toMatchObject({
      id: user.id,
      tenantId: 'acme',
      plan: 'free',
      stripeCustomer: null,
      status: 'active',
    });
    expect(account.roles).toEqual([{ role: 'viewer', source: 'jit' }]);
    expect(account.createdAt).toEqual(user.createdAt);

    // The app changes its own columns; the next login keeps them.
    await repository.update(account.id, { plan: 'enterprise' });
    const again = await provisioner.provision({ connectionId: CONNECTION.id, profile: profile('ann') });
    expect(again.user.id).toBe(user.id);
    expect((await repository.findOneByOrFail({ id: user.id })).plan).toBe('enterprise');
    const tables = await dataSource.query(
      name === 'sqlite'
        ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'jit_users'`
        : `SELECT tablename FROM pg_tables WHERE tablename = 'jit_users'`,
    );
    expect(tables).toEqual([]);
  });

  it('refuses a user entity that lacks a property the store needs', async () => {
    const store = new TypeormStore(dataSource, { userEntity: 'JitIdentity' });
    await expect(store.findUserById('x')).rejects.toThrow(/no property "email"/);
  });
});
