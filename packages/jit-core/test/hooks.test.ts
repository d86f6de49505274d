import { describe, expect, it } from 'vitest';
import type { ProvisioningEvent, Resolver, ResolverContext } from '../src/index.js';
import {
  allUsers,
  auditTrail,
  denial,
  insertIdentity,
  insertUser,
  oidcConnection,
  oidcLogin,
  setup,
  TENANT,
} from './fixtures.js';

const login = { connectionId: 'acme-oidc' } as const;

function withResolver(resolve: Resolver, jit: Parameters<typeof oidcConnection>[1] = {}) {
  return setup({ connections: [oidcConnection({}, jit)], options: { resolve } });
}

describe('the resolver hook', () => {
  it('continue: the default decision runs', async () => {
    const { provisioner } = withResolver(() => ({ action: 'continue' }));
    expect((await provisioner.provision({ ...login, profile: oidcLogin() })).action).toBe('created');
  });

  it('sees the mapped profile, the connection and the user already linked to the subject', async () => {
    const seen: ResolverContext[] = [];
    const { provisioner } = withResolver((context) => {
      seen.push(context);
      return { action: 'continue' };
    });
    const first = await provisioner.provision({ ...login, profile: oidcLogin({ email: 'ANN@acme.test' }) });
    await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(seen[0]).toMatchObject({
      mapped: { email: 'ann@acme.test' },
      linkedUser: null,
      connection: { id: 'acme-oidc' },
    });
    expect(seen[1]!.linkedUser?.id).toBe(first.user.id);
  });

  it('link(userId): links the login to the account the app chose, whatever its email', async () => {
    const { provisioner, store } = withResolver(
      async ({ store: tx }) => {
        const legacy = await tx.findUserByEmail(TENANT, 'a.lee@acme.test');
        return legacy ? { action: 'link', userId: legacy.id } : { action: 'continue' };
      },
      { mode: 'off' },
    );
    const legacy = await insertUser(store, { email: 'a.lee@acme.test', source: 'manual' });
    const result = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(result).toMatchObject({ action: 'linked', user: { id: legacy.id } });
    expect(result.identity).toMatchObject({ subject: 'ann-sub', userId: legacy.id });
    expect(await allUsers(store)).toHaveLength(1);
  });

  it('link(userId): refuses an account that does not exist', async () => {
    const { provisioner } = withResolver(() => ({ action: 'link', userId: 'nobody' }));
    const error = await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'ACCOUNT_CONFLICT');
    expect(error.message).toBe('The application asked to link an account that does not exist.');
  });

  it('link(userId): refuses to move a subject already linked to another account', async () => {
    const { provisioner, store } = withResolver(() => ({ action: 'link', userId: 'someone-else' }));
    const ann = await insertUser(store, { email: 'ann@acme.test' });
    await insertIdentity(store, ann.id, 'acme-oidc', 'ann-sub');
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'ACCOUNT_CONFLICT');
    expect((await store.findIdentity('acme-oidc', 'ann-sub'))?.user.id).toBe(ann.id);
  });

  it('link(userId): signs in normally when it names the account already linked', async () => {
    const { provisioner, store } = withResolver(async ({ linkedUser }) =>
      linkedUser ? { action: 'link', userId: linkedUser.id } : { action: 'continue' },
    );
    const first = await provisioner.provision({ ...login, profile: oidcLogin() });
    const again = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(again).toMatchObject({ action: 'unchanged', user: { id: first.user.id } });
    expect(await allUsers(store)).toHaveLength(1);
  });

  it('link(userId): keeps the one-identity-per-connection rule', async () => {
    const { provisioner, store } = withResolver(() => ({ action: 'link', userId: 'u-taken' }));
    await insertUser(store, { id: 'u-taken', email: 'bob@acme.test' });
    await insertIdentity(store, 'u-taken', 'acme-oidc', 'bob-sub');
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'ACCOUNT_CONFLICT');
  });

  it('link(userId): refuses an account of another tenant and a deactivated account', async () => {
    const { provisioner, store } = withResolver(({ mapped }) => ({
      action: 'link',
      userId: mapped.email === 'ann@acme.test' ? 'u-globex' : 'u-gone',
    }));
    await insertUser(store, { id: 'u-globex', email: 'ann@acme.test', tenantId: 'globex' });
    await insertUser(store, { id: 'u-gone', email: 'bob@acme.test', status: 'deactivated' });
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'TENANT_MISMATCH');
    await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ sub: 'bob', email: 'bob@acme.test' }) }),
      'USER_DEACTIVATED',
    );
  });

  it('reject(reason): refuses with REJECTED_BY_RESOLVER and the app’s message, before anything is written', async () => {
    const { provisioner, store } = withResolver(() => ({
      action: 'reject',
      reason: 'contractor',
      message: 'Contractors sign in through the partner portal.',
    }));
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin() }),
      'REJECTED_BY_RESOLVER',
    );
    expect(error.message).toBe('Contractors sign in through the partner portal.');
    expect(error.details).toEqual({ reason: 'contractor' });
    expect(await allUsers(store)).toEqual([]);
  });

  it('reject(reason): also refuses a returning person', async () => {
    let refuse = false;
    const { provisioner } = withResolver(() =>
      refuse ? { action: 'reject', reason: 'locked' } : { action: 'continue' },
    );
    await provisioner.provision({ ...login, profile: oidcLogin() });
    refuse = true;
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin() }),
      'REJECTED_BY_RESOLVER',
    );
    expect(error.message).toBe('The application refused this login (locked).');
  });

  it('reports a resolver that answers something else than its three decisions as a configuration error', async () => {
    const { provisioner, store } = withResolver(() => ({ action: 'allow' }) as never);
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin() }),
      'INVALID_CONFIGURATION',
    );
    expect(error.message).toBe('The resolver returned "allow"; expected "continue", "link" or "reject".');
    expect(await allUsers(store)).toEqual([]);
    const silent = withResolver(() => undefined as never);
    await denial(silent.provisioner.provision({ ...login, profile: oidcLogin() }), 'INVALID_CONFIGURATION');
  });

  it('passes an error thrown by the resolver through unchanged, and writes nothing', async () => {
    const bug = new TypeError('resolver bug');
    const { provisioner, store } = withResolver(() => {
      throw bug;
    });
    await expect(provisioner.provision({ ...login, profile: oidcLogin() })).rejects.toBe(bug);
    expect(await allUsers(store)).toEqual([]);
  });
});

describe('events', () => {
  function recording() {
    const events: ProvisioningEvent[] = [];
    const { provisioner, store } = setup({ options: { onEvent: (e) => void events.push(e) } });
    return { provisioner, store, events };
  }

  it('sends provisioned with the result and its audit event after each successful login', async () => {
    const { provisioner, events } = recording();
    const created = await provisioner.provision({ ...login, profile: oidcLogin() });
    const again = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ type: 'provisioned', result: created, audit: { action: 'created' } });
    expect(events[1]).toMatchObject({ type: 'provisioned', result: again, audit: { action: 'unchanged' } });
  });

  it('sends denied with the error and its audit event', async () => {
    const { provisioner, events, store } = recording();
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email: 'x@evil.test' }) }),
      'DOMAIN_NOT_ALLOWED',
    );
    expect(events).toEqual([{ type: 'denied', error, audit: (await auditTrail(store))[0] }]);
  });

  it('sends lifecycle events for deactivation and reactivation', async () => {
    const { provisioner, events } = recording();
    const { user } = await provisioner.provision({ ...login, profile: oidcLogin() });
    await provisioner.deactivateUser(user.id, { reason: 'left' });
    await provisioner.reactivateUser(user.id);
    expect(events.slice(1).map((e) => e.type === 'lifecycle' && [e.audit.action, e.user.status])).toEqual([
      ['deactivated', 'deactivated'],
      ['reactivated', 'active'],
    ]);
  });

  it('sends the event after the commit, so a listener reads the new account', async () => {
    let found: unknown = 'not called';
    const { provisioner, store } = setup({
      options: {
        onEvent: async (e) => {
          if (e.type === 'provisioned') found = await store.findUserById(e.result.user.id);
        },
      },
    });
    const result = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(found).toEqual(result.user);
  });

  it('does not undo a login when a listener fails, and reports the failure', async () => {
    const failures: unknown[] = [];
    const { provisioner, store } = setup({
      options: {
        onEvent: () => {
          throw new Error('webhook down');
        },
        onEventError: (e) => void failures.push(e),
      },
    });
    const result = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(result.action).toBe('created');
    expect(await store.findUserById(result.user.id)).not.toBeNull();
    expect(failures).toEqual([new Error('webhook down')]);
  });
});
