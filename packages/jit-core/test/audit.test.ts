import { describe, expect, it } from 'vitest';
import { JitError, StoreError, type JitErrorCode } from '../src/index.js';
import {
  allUsers,
  auditTrail,
  denial,
  insertIdentity,
  insertUser,
  oidcConnection,
  oidcLogin,
  samlConnection,
  samlLogin,
  setup,
  TENANT,
} from './fixtures.js';
import { ScriptedStore } from './stores.js';

const login = { connectionId: 'acme-oidc' } as const;

describe('audit of provisioning decisions', () => {
  it('writes one event per decision with the outcome, connection, subject, user and changes', async () => {
    const at = new Date('2026-04-01T08:00:00Z');
    const { provisioner, store } = setup({ options: { now: () => at } });
    const created = await provisioner.provision({ ...login, profile: oidcLogin() });
    await provisioner.provision({ ...login, profile: oidcLogin() });
    await provisioner.provision({ ...login, profile: oidcLogin({ given_name: 'Annie' }) });
    const trail = await auditTrail(store);
    expect(trail.map((e) => e.action)).toEqual(['created', 'unchanged', 'updated']);
    expect(trail[0]).toMatchObject({
      at,
      tenantId: TENANT,
      actor: 'jit',
      connectionId: 'acme-oidc',
      subject: 'ann-sub',
      userId: created.user.id,
      reason: null,
      changes: created.changes,
    });
    expect(trail[2]!.changes).toEqual([{ field: 'firstName', from: 'Ann', to: 'Annie' }]);
  });

  it('writes a linked event when an account is linked', async () => {
    const { provisioner, store } = setup();
    const ann = await insertUser(store, { email: 'ann@acme.test' });
    await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(await auditTrail(store)).toEqual([expect.objectContaining({ action: 'linked', userId: ann.id })]);
  });

  it('gives events time-ordered ids', async () => {
    const { provisioner, store } = setup();
    for (let i = 0; i < 20; i++) {
      await provisioner.provision({
        ...login,
        profile: oidcLogin({ sub: `s${i}`, email: `p${i}@acme.test` }),
      });
    }
    const ids = (await auditTrail(store)).map((e) => e.id);
    expect(ids).toHaveLength(20);
    expect([...ids].sort()).toEqual(ids);
  });

  it('writes the event in the same transaction as the change: a failed audit write leaves no account', async () => {
    let failAudit = true;
    const store = new ScriptedStore({
      appendAudit: async (tx, event) => {
        if (failAudit && event.action !== 'denied') throw new Error('audit table is full');
        return tx.appendAudit(event);
      },
    });
    const { provisioner } = setup({ store });
    const error = await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'STORE_FAILURE');
    expect(error).toBeInstanceOf(StoreError);
    expect(await allUsers(store)).toEqual([]);
    expect(await store.findIdentity('acme-oidc', 'ann-sub')).toBeNull();
    expect((await auditTrail(store)).map((e) => e.reason)).toEqual(['STORE_FAILURE']);
    failAudit = false;
    expect((await provisioner.provision({ ...login, profile: oidcLogin() })).action).toBe('created');
  });
});

describe('audit of denials', () => {
  type Case = [JitErrorCode, () => Promise<{ store: ScriptedStore; attempt: () => Promise<unknown> }>];

  const cases: Case[] = [
    [
      'ISSUER_MISMATCH',
      async () => world((p) => p.provision({ ...login, profile: oidcLogin({ iss: 'https://evil.test' }) })),
    ],
    [
      'TENANT_MISMATCH',
      async () => world((p) => p.provision({ ...login, tenantId: 'globex', profile: oidcLogin() })),
    ],
    [
      'MISSING_ATTRIBUTE',
      async () => world((p) => p.provision({ ...login, profile: oidcLogin({ email: undefined }) })),
    ],
    [
      'INVALID_ATTRIBUTE',
      async () => world((p) => p.provision({ ...login, profile: oidcLogin({ email: 'nope' }) })),
    ],
    [
      'DOMAIN_NOT_ALLOWED',
      async () => world((p) => p.provision({ ...login, profile: oidcLogin({ email: 'a@evil.test' }) })),
    ],
    [
      'EMAIL_NOT_VERIFIED',
      async () => world((p) => p.provision({ ...login, profile: oidcLogin({ email_verified: false }) })),
    ],
    ['JIT_DISABLED', async () => world((p) => p.provision({ connectionId: 'off', profile: oidcLogin() }))],
    [
      'ACCOUNT_CONFLICT',
      async () =>
        world(
          (p) => p.provision({ ...login, profile: oidcLogin({ sub: 'intruder' }) }),
          async (store) =>
            insertIdentity(store, (await insertUser(store, { email: 'ann@acme.test' })).id, 'acme-oidc', 'x'),
        ),
    ],
    [
      'SEAT_LIMIT_REACHED',
      async () =>
        world(
          (p) => p.provision({ ...login, profile: oidcLogin() }),
          async (store) => void (await insertUser(store, { email: 'bob@acme.test' })),
          { id: TENANT, seatLimit: 1 },
        ),
    ],
    [
      'USER_DEACTIVATED',
      async () =>
        world(
          (p) => p.provision({ ...login, profile: oidcLogin() }),
          async (store) => void (await insertUser(store, { email: 'ann@acme.test', status: 'deactivated' })),
        ),
    ],
    [
      'NO_ROLE_GRANTED',
      async () => world((p) => p.provision({ connectionId: 'strict', profile: oidcLogin() })),
    ],
    [
      'REJECTED_BY_RESOLVER',
      async () =>
        world((p) => p.provision({ connectionId: 'acme-oidc', profile: oidcLogin({ sub: 'banned' }) })),
    ],
    [
      'STORE_FAILURE',
      async () => {
        const w = await world((p) => p.provision({ ...login, profile: oidcLogin() }));
        w.store.hooks.insertUser = async () => {
          throw new Error('connection reset; password=hunter2');
        };
        return w;
      },
    ],
  ];

  async function world(
    attempt: (p: ReturnType<typeof setup>['provisioner']) => Promise<unknown>,
    seed?: (store: ScriptedStore) => Promise<unknown>,
    tenant?: { id: string; seatLimit: number },
  ) {
    const store = new ScriptedStore();
    await seed?.(store);
    const { provisioner } = setup({
      store,
      ...(tenant ? { tenants: [tenant] } : {}),
      connections: [
        oidcConnection(),
        oidcConnection({ id: 'off' }, { mode: 'off' }),
        oidcConnection({ id: 'strict' }, { strictRoles: true }),
      ],
      options: {
        resolve: ({ profile }) =>
          profile.subject === 'banned' ? { action: 'reject', reason: 'banned' } : { action: 'continue' },
      },
    });
    return { store, attempt: () => attempt(provisioner) };
  }

  it.each(cases)('audits %s with its code and no login data', async (code, build) => {
    const { store, attempt } = await build();
    const before = (await auditTrail(store)).length;
    const error = await denial(attempt(), code);
    // A subclass per denial, so that apps can also match on the class.
    expect(error.constructor).not.toBe(JitError);
    const trail = await auditTrail(store);
    expect(trail).toHaveLength(before + 1);
    const event = trail[trail.length - 1]!;
    expect(event).toMatchObject({ action: 'denied', reason: code, actor: 'jit', changes: [] });
    expect(event.connectionId).toBeTypeOf('string');
    const written = JSON.stringify(event);
    for (const leak of ['Ann', 'Lee', 'ann@acme.test', 'hunter2', 'evil.test', 'nope']) {
      expect(written).not.toContain(leak);
    }
  });

  it('names the account a denial concerns when there is one', async () => {
    const { provisioner, store } = setup();
    const ann = await insertUser(store, { email: 'ann@acme.test', status: 'deactivated' });
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'USER_DEACTIVATED');
    expect(await auditTrail(store)).toEqual([
      expect.objectContaining({ reason: 'USER_DEACTIVATED', userId: ann.id, subject: 'ann-sub' }),
    ]);
  });

  it('records a login for an unknown connection under the tenant asked for', async () => {
    const { provisioner, store } = setup();
    await denial(
      provisioner.provision({ connectionId: 'ghost', tenantId: TENANT, profile: oidcLogin() }),
      'UNKNOWN_CONNECTION',
    );
    expect(await auditTrail(store)).toEqual([
      expect.objectContaining({ reason: 'UNKNOWN_CONNECTION', connectionId: 'ghost', userId: null }),
    ]);
  });

  it('still refuses when the store cannot even record the denial', async () => {
    const store = new ScriptedStore({
      findIdentity: async () => {
        throw new Error('down');
      },
      appendAudit: async () => {
        throw new Error('down');
      },
    });
    const events: unknown[] = [];
    const { provisioner } = setup({ store, options: { onEvent: (e) => void events.push(e) } });
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'STORE_FAILURE');
    expect(events).toEqual([expect.objectContaining({ type: 'denied', audit: null })]);
  });

  it('never stores assertion contents, tokens or claims no mapping reads', async () => {
    const { provisioner, store } = setup({
      connections: [oidcConnection(), samlConnection({}, { emailAuthoritative: true })],
    });
    await provisioner.provision({
      ...login,
      profile: oidcLogin({ nonce: 'NONCE-SECRET', at_hash: 'ATHASH-SECRET', acr: 'ACR-SECRET' }),
    });
    await provisioner.provision({
      connectionId: 'acme-saml',
      profile: samlLogin(
        { sessionIndex: 'SESSION-SECRET', getAssertionXml: () => '<ASSERTION-SECRET/>' },
        { costCentre: 'CC-SECRET' },
      ),
    });
    await denial(
      provisioner.provision({
        connectionId: 'acme-saml',
        profile: samlLogin({ issuer: 'https://x.test' }, { token: 'TOKEN-SECRET' }),
      }),
      'ISSUER_MISMATCH',
    );
    const written = JSON.stringify(await auditTrail(store));
    expect(written).not.toMatch(/SECRET/);
  });
});
