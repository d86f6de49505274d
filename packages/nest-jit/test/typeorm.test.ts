import './fixtures.js';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { jitDataSourceOptions, TypeormStore } from '@jit-sso/typeorm';
import type { TestingModule } from '@nestjs/testing';
import { JitModule, JitService } from '../src/index.js';
import { annLogin, oidcConnection, options } from './fixtures.js';

/** An entity of the app itself, in the same DataSource as the jit-sso tables. */
@Injectable()
class Invoices {
  constructor(readonly dataSource: DataSource) {}
}

@Module({ providers: [Invoices], exports: [Invoices] })
class InvoicesModule {}

describe('JitModule with @nestjs/typeorm', () => {
  let ref: TestingModule | undefined;
  afterEach(() => ref?.close());

  it("puts the app's DataSource into the TypeORM store, so logins are written to the app's database", async () => {
    ref = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...jitDataSourceOptions('sqlite::memory:'), migrationsRun: true }),
        JitModule.forRootAsync({
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({
            store: new TypeormStore(dataSource),
            connections: [oidcConnection()],
          }),
        }),
        InvoicesModule,
      ],
    }).compile();
    await ref.init();

    const jit = ref.get(JitService);
    const dataSource = ref.get<DataSource>(getDataSourceToken());
    expect(ref.get(Invoices).dataSource).toBe(dataSource);
    expect(jit.store).toBeInstanceOf(TypeormStore);

    const result = await jit.provision({ connectionId: 'acme-oidc', profile: annLogin() });
    expect(result.action).toBe('created');
    // Read the database directly, not through the store under test.
    const rows = await dataSource.query('SELECT id, email, status FROM jit_users');
    expect(rows).toEqual([{ id: result.user.id, email: 'ann@acme.test', status: 'active' }]);
    const identities = await dataSource.query('SELECT subject, user_id AS userId FROM jit_identities');
    expect(identities).toEqual([{ subject: 'ann-sub', userId: result.user.id }]);

    await jit.deactivateUser(result.user.id);
    expect(await jit.getActiveUser(result.user.id)).toBeNull();
    expect(await dataSource.query('SELECT status FROM jit_users')).toEqual([{ status: 'deactivated' }]);
  });

  it('works without @nestjs/typeorm (memory store) in the same way', async () => {
    ref = await Test.createTestingModule({
      imports: [JitModule.forRoot(options())],
    }).compile();
    const result = await ref.get(JitService).provision({ connectionId: 'acme-oidc', profile: annLogin() });
    expect(result.action).toBe('created');
  });
});
