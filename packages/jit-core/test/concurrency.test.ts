import { describe, expect, it } from 'vitest';
import { StoreConflictError, StoreError, type ProvisioningResult } from '../src/index.js';
import {
  allUsers,
  auditTrail,
  denial,
  oidcConnection,
  oidcLogin,
  samlConnection,
  samlLogin,
  setup,
  TENANT,
} from './fixtures.js';
import { ScriptedStore } from './stores.js';

const login = { connectionId: 'acme-oidc' } as const;

describe('concurrent first logins', () => {
  it('ends 100 concurrent first logins of one subject with one user and 100 successful results', async () => {
    const { provisioner, store } = setup();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => provisioner.provision({ ...login, profile: oidcLogin() })),
    );
    const users = await allUsers(store);
    expect(users).toHaveLength(1);
    expect(new Set(results.map((r) => r.user.id))).toEqual(new Set([users[0]!.id]));
    expect(results.filter((r) => r.action === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.action === 'unchanged')).toHaveLength(99);
    expect(await store.listIdentitiesOfUser(users[0]!.id)).toHaveLength(1);
    expect(await auditTrail(store)).toHaveLength(100);
  });

  it('holds the seat limit under concurrent first logins of different people', async () => {
    const { provisioner, store } = setup({ tenants: [{ id: TENANT, seatLimit: 5 }] });
    const settled = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        provisioner.provision({ ...login, profile: oidcLogin({ sub: `s${i}`, email: `p${i}@acme.test` }) }),
      ),
    );
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(5);
    const refused = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(refused.map((s) => s.reason.code)).toEqual(Array(7).fill('SEAT_LIMIT_REACHED'));
    expect(await allUsers(store)).toHaveLength(5);
  });

  it('lets only one of two subjects with the same email on one connection have the account', async () => {
    const { provisioner, store } = setup();
    const settled = await Promise.allSettled([
      provisioner.provision({ ...login, profile: oidcLogin({ sub: 'one' }) }),
      provisioner.provision({ ...login, profile: oidcLogin({ sub: 'two' }) }),
    ]);
    expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(settled.find((s) => s.status === 'rejected')).toMatchObject({
      reason: { code: 'ACCOUNT_CONFLICT' },
    });
    expect(await allUsers(store)).toHaveLength(1);
  });
});

describe('a lost race at the database', () => {
  it('retries after a unique-key conflict and returns the winner', async () => {
    const store = new ScriptedStore();
    let conflicts = 0;
    store.hooks.insertIdentity = async (tx, identity) => {
      if (conflicts++ > 0) return tx.insertIdentity(identity);
      // Another process committed the same subject first; it becomes visible once we roll back.
      store.afterRollback = async () => {
        const winner = await store.transaction(async (w) => {
          const user = await w.insertUser({
            id: 'winner',
            tenantId: TENANT,
            email: 'ann@acme.test',
            status: 'active',
            source: 'jit',
            attributes: { firstName: 'Ann', lastName: 'Lee' },
            roles: [],
            externalId: null,
            createdAt: new Date(),
            lastLoginAt: new Date(),
          });
          await w.insertIdentity({ ...identity, id: 'winner-identity', userId: user.id });
          return user;
        });
        expect(winner.id).toBe('winner');
      };
      throw new StoreConflictError('identity');
    };
    const { provisioner } = setup({ store });
    const result: ProvisioningResult = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(result.user.id).toBe('winner');
    expect(result.identity.id).toBe('winner-identity');
    expect(['unchanged', 'updated']).toContain(result.action);
    expect(await allUsers(store)).toEqual([expect.objectContaining({ id: 'winner' })]);
    expect((await auditTrail(store)).filter((e) => e.action === 'denied')).toEqual([]);
  });

  it('links to the winner when another connection created the same email first', async () => {
    const store = new ScriptedStore();
    let conflicts = 0;
    store.hooks.insertUser = async (tx, user) => {
      if (conflicts++ > 0) return tx.insertUser(user);
      store.afterRollback = async () => {
        await store.transaction(async (w) => {
          await w.insertUser({ ...user, id: 'winner' });
          await w.insertIdentity({
            id: 'saml-identity',
            tenantId: TENANT,
            connectionId: 'acme-saml',
            subject: 'ann-nameid',
            userId: 'winner',
            createdAt: new Date(),
          });
        });
      };
      throw new StoreConflictError('email');
    };
    const { provisioner } = setup({ store });
    const result = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(result).toMatchObject({ action: 'linked', user: { id: 'winner' } });
    expect(await allUsers(store)).toHaveLength(1);
    expect(await store.listIdentitiesOfUser('winner')).toHaveLength(2);
  });

  it('gives up with STORE_FAILURE when the conflict does not resolve', async () => {
    const store = new ScriptedStore({
      insertUser: async () => {
        throw new StoreConflictError('other');
      },
    });
    const { provisioner } = setup({ store, options: { maxAttempts: 3 } });
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'STORE_FAILURE');
    // Three attempts, then one transaction to record the denial.
    expect(store.transactions).toBe(4);
  });
});

describe('a store that fails mid-transaction', () => {
  it('leaves nothing written and surfaces STORE_FAILURE', async () => {
    const cause = new Error('ECONNRESET');
    const store = new ScriptedStore({
      insertIdentity: async () => {
        throw cause;
      },
    });
    const { provisioner } = setup({ store, tenants: [{ id: TENANT, seatLimit: 10 }] });
    const error = await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'STORE_FAILURE');
    expect(error).toBeInstanceOf(StoreError);
    expect(error.cause).toBe(cause);
    expect(error.httpStatus).toBe(503);
    expect(error.message).toBe('The account store failed during sign-in.');
    expect(JSON.stringify(error)).not.toContain('ECONNRESET');
    expect(await allUsers(store)).toEqual([]);
    expect(await store.findUserByEmail(TENANT, 'ann@acme.test')).toBeNull();
    expect(await store.findIdentity('acme-oidc', 'ann-sub')).toBeNull();
    expect((await auditTrail(store)).map((e) => [e.action, e.reason])).toEqual([['denied', 'STORE_FAILURE']]);
  });

  it('rolls back a link whose user update fails', async () => {
    const store = new ScriptedStore();
    const { provisioner } = setup({
      store,
      connections: [oidcConnection(), samlConnection({}, { emailAuthoritative: true })],
    });
    const first = await provisioner.provision({ ...login, profile: oidcLogin() });
    store.hooks.updateUser = async () => {
      throw new Error('deadlock detected');
    };
    await denial(provisioner.provision({ connectionId: 'acme-saml', profile: samlLogin() }), 'STORE_FAILURE');
    expect(await store.listIdentitiesOfUser(first.user.id)).toHaveLength(1);
    expect(await store.findIdentity('acme-saml', 'ann-nameid')).toBeNull();
  });

  it('recovers once the store answers again', async () => {
    let down = true;
    const store = new ScriptedStore({
      insertIdentity: async (tx, identity) => {
        if (down) throw new Error('down');
        return tx.insertIdentity(identity);
      },
    });
    const { provisioner } = setup({ store });
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'STORE_FAILURE');
    down = false;
    expect((await provisioner.provision({ ...login, profile: oidcLogin() })).action).toBe('created');
    expect(await allUsers(store)).toHaveLength(1);
  });
});
