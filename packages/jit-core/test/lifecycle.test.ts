import { describe, expect, it } from 'vitest';
import type { ProvisioningEvent } from '../src/index.js';
import { auditTrail, denial, insertUser, oidcLogin, setup, TENANT } from './fixtures.js';

const login = { connectionId: 'acme-oidc' } as const;
const day = (d: string) => new Date(`2026-${d}T12:00:00Z`);

/** A tenant with people last seen on different days, one of another tenant, one already gone. */
async function office() {
  const { provisioner, store } = setup({ options: { now: () => day('06-01') } });
  const seed = (email: string, fields: Omit<Parameters<typeof insertUser>[1], 'email'> = {}) =>
    insertUser(store, { createdAt: day('01-01'), ...fields, email });
  const users = {
    january: await seed('jan@acme.test', { lastLoginAt: day('01-15') }),
    february: await seed('feb@acme.test', { lastLoginAt: day('02-15') }),
    never: await seed('never@acme.test', { lastLoginAt: null }),
    admin: await seed('root@acme.test', {
      lastLoginAt: day('01-10'),
      roles: [{ role: 'owner', source: 'manual' }],
    }),
    recent: await seed('may@acme.test', { lastLoginAt: day('05-20') }),
    gone: await seed('gone@acme.test', { lastLoginAt: day('01-01'), status: 'deactivated' }),
    elsewhere: await seed('jan@globex.test', { tenantId: 'globex', lastLoginAt: day('01-01') }),
  };
  return { provisioner, store, users };
}

describe('dormant account cleanup', () => {
  it('reports the dormant accounts in a dry run by default, changing nothing and auditing nothing', async () => {
    const { provisioner, store } = await office();
    const seen: string[] = [];
    const report = await provisioner.deactivateDormant({
      tenantId: TENANT,
      notSeenSince: day('03-01'),
      onUser: (u) => void seen.push(u.email),
    });
    expect(report).toEqual({ dryRun: true, deactivated: 4, kept: 0 });
    expect(seen.sort()).toEqual(['feb@acme.test', 'jan@acme.test', 'never@acme.test', 'root@acme.test']);
    expect(await store.countUsers({ tenantId: TENANT })).toEqual({ active: 5, deactivated: 1 });
    expect(await auditTrail(store)).toEqual([]);
  });

  it('deactivates the tenant’s users not seen since the date, and audits each one', async () => {
    const { provisioner, store, users } = await office();
    const report = await provisioner.deactivateDormant({
      tenantId: TENANT,
      notSeenSince: day('03-01'),
      dryRun: false,
    });
    expect(report).toEqual({ dryRun: false, deactivated: 4, kept: 0 });
    for (const user of [users.january, users.february, users.never, users.admin]) {
      expect(await store.findUserById(user.id)).toMatchObject({
        status: 'deactivated',
        deactivatedAt: day('06-01'),
      });
    }
    expect((await store.findUserById(users.recent.id))?.status).toBe('active');
    expect((await store.findUserById(users.elsewhere.id))?.status).toBe('active');
    const trail = await auditTrail(store);
    expect(trail).toHaveLength(4);
    expect(trail[0]).toMatchObject({
      action: 'deactivated',
      actor: 'system',
      reason: 'dormant',
      changes: [{ field: 'status', from: 'active', to: 'deactivated' }],
    });
  });

  it('sends a lifecycle event for each account it deactivates, after the commit', async () => {
    const events: ProvisioningEvent[] = [];
    const { provisioner, store } = setup({ options: { onEvent: (e) => void events.push(e) } });
    const old = await insertUser(store, { email: 'old@acme.test', lastLoginAt: day('01-01') });
    await provisioner.deactivateDormant({ tenantId: TENANT, notSeenSince: day('03-01') });
    expect(events).toEqual([]);
    await provisioner.deactivateDormant({ tenantId: TENANT, notSeenSince: day('03-01'), dryRun: false });
    expect(events).toEqual([
      {
        type: 'lifecycle',
        user: expect.objectContaining({ id: old.id, status: 'deactivated' }),
        audit: expect.objectContaining({ action: 'deactivated', reason: 'dormant' }),
      },
    ]);
  });

  it('uses the creation date of someone who never signed in', async () => {
    const { provisioner, store } = setup();
    const fresh = await insertUser(store, {
      email: 'new@acme.test',
      createdAt: day('05-01'),
      lastLoginAt: null,
    });
    const report = await provisioner.deactivateDormant({
      tenantId: TENANT,
      notSeenSince: day('04-01'),
      dryRun: false,
    });
    expect(report.deactivated).toBe(0);
    expect((await store.findUserById(fresh.id))?.status).toBe('active');
  });

  it('keeps users holding an excluded role', async () => {
    const { provisioner, store, users } = await office();
    const report = await provisioner.deactivateDormant({
      tenantId: TENANT,
      notSeenSince: day('03-01'),
      dryRun: false,
      excludeRoles: ['owner'],
    });
    expect(report).toEqual({ dryRun: false, deactivated: 3, kept: 1 });
    expect((await store.findUserById(users.admin.id))?.status).toBe('active');
  });

  it('pages through many users', async () => {
    const { provisioner, store } = setup();
    for (let i = 0; i < 23; i++)
      await insertUser(store, { email: `p${i}@acme.test`, lastLoginAt: day('01-01') });
    const report = await provisioner.deactivateDormant({
      tenantId: TENANT,
      notSeenSince: day('03-01'),
      dryRun: false,
      batchSize: 5,
      actor: 'admin',
    });
    expect(report.deactivated).toBe(23);
    expect(await store.countUsers({ tenantId: TENANT })).toEqual({ active: 0, deactivated: 23 });
    expect((await auditTrail(store)).every((e) => e.actor === 'admin')).toBe(true);
  });

  it('refuses the next login of a deactivated dormant user', async () => {
    const { provisioner, store } = setup({ options: { now: () => day('06-01') } });
    const first = await provisioner.provision({ ...login, profile: oidcLogin() });
    await provisioner.deactivateDormant({ tenantId: TENANT, notSeenSince: day('07-01'), dryRun: false });
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'USER_DEACTIVATED');
    expect(await provisioner.getActiveUser(first.user.id)).toBeNull();
    expect((await store.findUserById(first.user.id))?.status).toBe('deactivated');
  });
});

describe('deactivation and reactivation', () => {
  it('deactivates a user, audits who did it and why, and ends their sessions', async () => {
    const { provisioner, store } = setup();
    const { user } = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(await provisioner.getActiveUser(user.id)).toMatchObject({ id: user.id });
    const gone = await provisioner.deactivateUser(user.id, { actor: 'scim', reason: 'offboarded' });
    expect(gone.status).toBe('deactivated');
    expect(await provisioner.getActiveUser(user.id)).toBeNull();
    expect((await auditTrail(store)).at(-1)).toMatchObject({
      action: 'deactivated',
      actor: 'scim',
      reason: 'offboarded',
      userId: user.id,
    });
  });

  it('does nothing, and audits nothing, when the user is already in that state', async () => {
    const { provisioner, store } = setup();
    const { user } = await provisioner.provision({ ...login, profile: oidcLogin() });
    await provisioner.deactivateUser(user.id);
    await provisioner.deactivateUser(user.id);
    expect((await auditTrail(store)).filter((e) => e.action === 'deactivated')).toHaveLength(1);
  });

  it('reactivates a user who can then sign in again', async () => {
    const { provisioner } = setup();
    const { user } = await provisioner.provision({ ...login, profile: oidcLogin() });
    await provisioner.deactivateUser(user.id);
    const back = await provisioner.reactivateUser(user.id);
    expect(back).toMatchObject({ status: 'active', deactivatedAt: null });
    expect((await provisioner.provision({ ...login, profile: oidcLogin() })).user.id).toBe(user.id);
  });

  it('refuses to reactivate beyond the seat limit', async () => {
    const { provisioner } = setup({ tenants: [{ id: TENANT, seatLimit: 1 }] });
    const ann = await provisioner.provision({ ...login, profile: oidcLogin() });
    await provisioner.deactivateUser(ann.user.id);
    await provisioner.provision({ ...login, profile: oidcLogin({ sub: 'bob', email: 'bob@acme.test' }) });
    await denial(provisioner.reactivateUser(ann.user.id), 'SEAT_LIMIT_REACHED');
  });

  it('answers a session check with STORE_FAILURE when the store is down, never with the user', async () => {
    const { provisioner, store } = setup();
    const { user } = await provisioner.provision({ ...login, profile: oidcLogin() });
    store.findUserById = async () => {
      throw new Error('ECONNREFUSED');
    };
    await denial(provisioner.getActiveUser(user.id), 'STORE_FAILURE');
  });

  it('reports an unknown user', async () => {
    const { provisioner } = setup();
    const error = await denial(provisioner.deactivateUser('ghost'), 'USER_NOT_FOUND');
    expect(error.httpStatus).toBe(404);
  });
});
