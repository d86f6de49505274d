import { describe, expect, it } from 'vitest';
import { JitError } from '../src/index.js';
import {
  allUsers,
  denial,
  insertIdentity,
  insertUser,
  OIDC_ISSUER,
  oidcConnection,
  oidcLogin,
  samlLogin,
  setup,
  TENANT,
} from './fixtures.js';

const login = { connectionId: 'acme-oidc' } as const;

describe('the provisioning decision, step 1: the login belongs to the connection', () => {
  it('refuses a connection id nobody configured', async () => {
    const { provisioner } = setup();
    const error = await denial(
      provisioner.provision({ connectionId: 'nope', profile: oidcLogin() }),
      'UNKNOWN_CONNECTION',
    );
    expect(error.message).toBe('No connection is configured with id "nope".');
    expect(error.httpStatus).toBe(404);
  });

  it('refuses a login whose issuer is not the connection issuer, naming both', async () => {
    const { provisioner, store } = setup();
    const profile = oidcLogin({ iss: 'https://evil.test' });
    const error = await denial(provisioner.provision({ ...login, profile }), 'ISSUER_MISMATCH');
    expect(error.message).toContain('"https://evil.test"');
    expect(error.message).toContain(`"${OIDC_ISSUER}"`);
    expect(error.httpStatus).toBe(401);
    expect(await allUsers(store)).toHaveLength(0);
  });

  it('refuses an OIDC login presented to a SAML connection with the same issuer', async () => {
    const { provisioner, store } = setup({
      connections: [oidcConnection({ id: 'acme-saml', protocol: 'saml' })],
    });
    const error = await denial(
      provisioner.provision({ connectionId: 'acme-saml', profile: oidcLogin() }),
      'ISSUER_MISMATCH',
    );
    expect(error.message).toContain('(saml)');
    expect(error.message).toContain('(oidc)');
    expect(await allUsers(store)).toHaveLength(0);
  });

  it('compares issuers exactly: a trailing slash is another issuer', async () => {
    const { provisioner } = setup();
    await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ iss: `${OIDC_ISSUER}/` }) }),
      'ISSUER_MISMATCH',
    );
  });

  it('refuses a connection used to sign into another tenant', async () => {
    const { provisioner } = setup();
    const error = await denial(
      provisioner.provision({ ...login, tenantId: 'globex', profile: oidcLogin() }),
      'TENANT_MISMATCH',
    );
    expect(error.message).toBe('Connection "acme-oidc" does not belong to tenant "globex".');
  });

  it('accepts the login when the tenant asked for is the connection tenant', async () => {
    const { provisioner } = setup();
    const result = await provisioner.provision({ ...login, tenantId: TENANT, profile: oidcLogin() });
    expect(result.action).toBe('created');
  });
});

describe('the provisioning decision, step 2: mapping', () => {
  it('refuses a login without an email, naming the attribute and what was sent', async () => {
    const { provisioner } = setup();
    const profile = oidcLogin({ email: undefined });
    const error = await denial(provisioner.provision({ ...login, profile }), 'MISSING_ATTRIBUTE');
    expect(error.message).toContain('"email"');
    expect(error.message).toContain('"given_name"');
    expect(error.details).toMatchObject({ field: 'email', expected: ['email'] });
  });

  it('refuses an email that is not an address', async () => {
    const { provisioner } = setup();
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email: 'ann at acme.test' }) }),
      'INVALID_ATTRIBUTE',
    );
    expect(error.message).toBe('The attribute "email" is not valid: not an email address.');
  });
});

describe('the provisioning decision, step 3: a returning subject', () => {
  it('signs a returning person in unchanged when nothing changed', async () => {
    const { provisioner } = setup();
    const first = await provisioner.provision({ ...login, profile: oidcLogin() });
    const again = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(again.action).toBe('unchanged');
    expect(again.user.id).toBe(first.user.id);
    expect(again.identity.id).toBe(first.identity.id);
    expect(again.changes).toEqual([]);
  });

  it('records the last login at each sign-in', async () => {
    let clock = new Date('2026-03-01T10:00:00Z');
    const { provisioner } = setup({ options: { now: () => clock } });
    await provisioner.provision({ ...login, profile: oidcLogin() });
    clock = new Date('2026-03-02T10:00:00Z');
    const again = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(again.user.lastLoginAt).toEqual(clock);
  });

  it('updates a returning person whose name changed and lists the change', async () => {
    const { provisioner } = setup();
    await provisioner.provision({ ...login, profile: oidcLogin() });
    const again = await provisioner.provision({ ...login, profile: oidcLogin({ family_name: 'Park' }) });
    expect(again.action).toBe('updated');
    expect(again.changes).toEqual([{ field: 'lastName', from: 'Lee', to: 'Park' }]);
    expect(again.user.attributes['lastName']).toBe('Park');
  });

  it('refuses a returning person whose account was deactivated', async () => {
    const { provisioner } = setup();
    const first = await provisioner.provision({ ...login, profile: oidcLogin() });
    await provisioner.deactivateUser(first.user.id);
    const error = await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'USER_DEACTIVATED');
    expect(error.message).toBe('This account has been deactivated.');
    expect(error.httpStatus).toBe(403);
  });

  it('signs in a linked person even when the connection no longer creates accounts', async () => {
    const { provisioner, store } = setup({ connections: [oidcConnection({}, { mode: 'off' })] });
    const user = await insertUser(store, { email: 'ann@acme.test' });
    await insertIdentity(store, user.id, 'acme-oidc', 'ann-sub');
    const result = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(result.user.id).toBe(user.id);
    expect(['updated', 'unchanged']).toContain(result.action);
  });

  it('refuses a returning person whose identity points at a user of another tenant', async () => {
    const { provisioner, store } = setup();
    const stranger = await insertUser(store, { email: 'ann@acme.test', tenantId: 'globex' });
    await insertIdentity(store, stranger.id, 'acme-oidc', 'ann-sub');
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'TENANT_MISMATCH');
  });
});

describe('the provisioning decision, step 4: a new subject with a known email', () => {
  it('links an existing user by verified email on a trusted domain', async () => {
    const { provisioner, store } = setup();
    const user = await insertUser(store, { email: 'ann@acme.test' });
    const result = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(result.action).toBe('linked');
    expect(result.user.id).toBe(user.id);
    expect(result.identity).toMatchObject({ connectionId: 'acme-oidc', subject: 'ann-sub', userId: user.id });
  });

  it('refuses an email on a domain the tenant has not verified', async () => {
    const { provisioner, store } = setup();
    await insertUser(store, { email: 'ann@gmail.test' });
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email: 'ann@gmail.test' }) }),
      'DOMAIN_NOT_ALLOWED',
    );
    expect(error.message).toBe(
      'The email domain "gmail.test" is not a verified domain of this organisation.',
    );
  });

  it('refuses to link on an email the identity provider did not verify', async () => {
    const { provisioner, store } = setup();
    await insertUser(store, { email: 'ann@acme.test' });
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email_verified: false }) }),
      'EMAIL_NOT_VERIFIED',
    );
    expect(error.message).toContain('did not assert that the email address is verified');
  });

  it('refuses to link when the connection never links by email', async () => {
    const { provisioner, store } = setup({ connections: [oidcConnection({}, { linking: 'never' })] });
    await insertUser(store, { email: 'ann@acme.test' });
    const error = await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'ACCOUNT_CONFLICT');
    expect(error.message).toContain('does not link accounts by email');
  });

  it('refuses to link into a deactivated account', async () => {
    const { provisioner, store } = setup();
    await insertUser(store, { email: 'ann@acme.test', status: 'deactivated' });
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'USER_DEACTIVATED');
  });

  it('links in link-only mode', async () => {
    const { provisioner, store } = setup({ connections: [oidcConnection({}, { mode: 'link-only' })] });
    const user = await insertUser(store, { email: 'ann@acme.test' });
    const result = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(result).toMatchObject({ action: 'linked', user: { id: user.id } });
  });

  it('neither links nor creates when JIT is off', async () => {
    const { provisioner, store } = setup({ connections: [oidcConnection({}, { mode: 'off' })] });
    await insertUser(store, { email: 'ann@acme.test' });
    const error = await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'JIT_DISABLED');
    expect(error.message).toContain('mode "off"');
  });
});

describe('the provisioning decision, step 5: a new person', () => {
  it('creates an account with the mapped attributes, an identity and least privilege', async () => {
    const { provisioner } = setup();
    const result = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(result.action).toBe('created');
    expect(result.user).toMatchObject({
      tenantId: TENANT,
      email: 'ann@acme.test',
      status: 'active',
      source: 'jit',
      attributes: { firstName: 'Ann', lastName: 'Lee' },
      roles: [],
    });
    expect(result.roles).toEqual([]);
    expect(result.identity).toMatchObject({
      connectionId: 'acme-oidc',
      subject: 'ann-sub',
      userId: result.user.id,
    });
    expect(result.changes).toEqual([
      { field: 'email', from: null, to: 'ann@acme.test' },
      { field: 'firstName', from: null, to: 'Ann' },
      { field: 'lastName', from: null, to: 'Lee' },
      { field: 'roles', from: [], to: [] },
    ]);
  });

  it('creates an account from a SAML login', async () => {
    const { provisioner } = setup();
    const result = await provisioner.provision({ connectionId: 'acme-saml', profile: samlLogin() });
    expect(result).toMatchObject({ action: 'created', user: { email: 'ann@acme.test' } });
    expect(result.identity.subject).toBe('ann-nameid');
  });

  it('refuses to create in link-only mode', async () => {
    const { provisioner } = setup({ connections: [oidcConnection({}, { mode: 'link-only' })] });
    const error = await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'JIT_DISABLED');
    expect(error.message).toBe(
      'No account exists for this person and connection "acme-oidc" does not create accounts (mode "link-only").',
    );
  });

  it('refuses to create on a domain the tenant has not verified', async () => {
    const { provisioner, store } = setup();
    await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email: 'ann@evil.test' }) }),
      'DOMAIN_NOT_ALLOWED',
    );
    expect(await allUsers(store)).toHaveLength(0);
  });

  it('refuses to create from an OIDC email the identity provider did not verify', async () => {
    const { provisioner, store } = setup();
    await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email_verified: false }) }),
      'EMAIL_NOT_VERIFIED',
    );
    await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email_verified: undefined }) }),
      'EMAIL_NOT_VERIFIED',
    );
    expect(await allUsers(store)).toHaveLength(0);
  });

  it('creates from an OIDC login without email_verified when the connection is authoritative', async () => {
    const { provisioner } = setup({ connections: [oidcConnection({}, { emailAuthoritative: true })] });
    const result = await provisioner.provision({
      ...login,
      profile: oidcLogin({ email_verified: undefined }),
    });
    expect(result.action).toBe('created');
  });

  it('refuses once the tenant has used its seats, and creates nothing', async () => {
    const { provisioner, store } = setup({ tenants: [{ id: TENANT, seatLimit: 1 }] });
    await provisioner.provision({ ...login, profile: oidcLogin() });
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ sub: 'bob-sub', email: 'bob@acme.test' }) }),
      'SEAT_LIMIT_REACHED',
    );
    expect(error.message).toBe('Tenant "acme" has reached its limit of 1 active users.');
    expect(await allUsers(store)).toHaveLength(1);
  });

  it('frees a seat when an account is deactivated', async () => {
    const { provisioner } = setup({ tenants: [{ id: TENANT, seatLimit: 1 }] });
    const ann = await provisioner.provision({ ...login, profile: oidcLogin() });
    await provisioner.deactivateUser(ann.user.id);
    const bob = await provisioner.provision({
      ...login,
      profile: oidcLogin({ sub: 'bob-sub', email: 'bob@acme.test' }),
    });
    expect(bob.action).toBe('created');
  });

  it("admits another writer's user within the seat limit and refuses one beyond it", async () => {
    const { provisioner, store } = setup({ tenants: [{ id: TENANT, seatLimit: 1 }] });
    await store.transaction((tx) => provisioner.admitUser(tx, TENANT));
    await provisioner.provision({ ...login, profile: oidcLogin() });
    await denial(
      store.transaction((tx) => provisioner.admitUser(tx, TENANT)),
      'SEAT_LIMIT_REACHED',
    );
    // Tenants without a limit, and unknown ones, admit everyone.
    await store.transaction((tx) => provisioner.admitUser(tx, 'globex'));
  });

  it('lets a linked person sign in even when the tenant is at its seat limit', async () => {
    const { provisioner } = setup({ tenants: [{ id: TENANT, seatLimit: 1 }] });
    await provisioner.provision({ ...login, profile: oidcLogin() });
    const again = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(again.action).toBe('unchanged');
  });

  it('refuses people the directory did not provision when the tenant requires it', async () => {
    const { provisioner, store } = setup({ tenants: [{ id: TENANT, requireProvisionedUsers: true }] });
    await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'USER_NOT_PROVISIONED');
    await insertUser(store, { email: 'ann@acme.test', source: 'scim' });
    const linked = await provisioner.provision({ ...login, profile: oidcLogin() });
    expect(linked.action).toBe('linked');
  });

  it('refuses a strict connection login that no group rule grants a role', async () => {
    const { provisioner } = setup({
      connections: [oidcConnection({}, { strictRoles: true, roleRules: [{ group: 'eng', roles: ['dev'] }] })],
    });
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ groups: ['sales'] }) }),
      'NO_ROLE_GRANTED',
    );
    expect(error.message).toBe('None of this person\'s groups grants a role: "sales".');
  });
});

describe('denials as a person sees them', () => {
  it('carries a stable code, an administrator hint and an HTTP status, and hides the cause', async () => {
    const { provisioner } = setup();
    const error = await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email: 'x@evil.test' }) }),
      'DOMAIN_NOT_ALLOWED',
    );
    expect(error).toBeInstanceOf(JitError);
    expect(error.name).toBe('DomainNotAllowedError');
    expect(error.hint).toMatch(/verify the email domain/);
    expect(error.httpStatus).toBe(403);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'DOMAIN_NOT_ALLOWED',
      message: error.message,
      hint: error.hint,
      details: { domain: 'evil.test' },
    });
  });
});

describe('the provisioning decision: a returning person whose email changed at the identity provider', () => {
  it('moves the account to the new verified address', async () => {
    const { provisioner } = setup();
    await provisioner.provision({ ...login, profile: oidcLogin() });
    const again = await provisioner.provision({
      ...login,
      profile: oidcLogin({ email: 'ann.lee@acme.test' }),
    });
    expect(again.action).toBe('updated');
    expect(again.user.email).toBe('ann.lee@acme.test');
    expect(again.changes).toContainEqual({ field: 'email', from: 'ann@acme.test', to: 'ann.lee@acme.test' });
  });

  it('refuses a new address that the identity provider did not verify', async () => {
    const { provisioner, store } = setup();
    const first = await provisioner.provision({ ...login, profile: oidcLogin() });
    await denial(
      provisioner.provision({
        ...login,
        profile: oidcLogin({ email: 'ceo@acme.test', email_verified: false }),
      }),
      'EMAIL_NOT_VERIFIED',
    );
    expect((await store.findUserById(first.user.id))?.email).toBe('ann@acme.test');
  });

  it('refuses a new address on a domain the tenant has not verified', async () => {
    const { provisioner } = setup();
    await provisioner.provision({ ...login, profile: oidcLogin() });
    await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email: 'ann@evil.test' }) }),
      'DOMAIN_NOT_ALLOWED',
    );
  });

  it('refuses a new address that another account already uses', async () => {
    const { provisioner, store } = setup();
    await provisioner.provision({ ...login, profile: oidcLogin() });
    await insertUser(store, { email: 'ceo@acme.test' });
    await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email: 'ceo@acme.test' }) }),
      'ACCOUNT_CONFLICT',
    );
  });

  it('keeps the address when the mapping syncs the email on creation only', async () => {
    const { provisioner } = setup({
      connections: [oidcConnection({ mapping: { email: { from: 'email', sync: 'on-create' } } })],
    });
    await provisioner.provision({ ...login, profile: oidcLogin() });
    const again = await provisioner.provision({
      ...login,
      profile: oidcLogin({ email: 'ann.lee@acme.test' }),
    });
    expect(again.user.email).toBe('ann@acme.test');
    expect(again.action).toBe('unchanged');
  });
});

describe('the decision table', () => {
  type Mode = 'create' | 'link-only' | 'off';
  interface Row {
    identity: 'linked' | 'linked, deactivated' | 'none';
    account: 'same email' | 'none';
    mode: Mode;
    email: 'verified' | 'unverified' | 'other domain';
    linking?: 'never';
    outcome: string;
  }
  const rows: Row[] = [
    { identity: 'linked', account: 'same email', mode: 'create', email: 'verified', outcome: 'unchanged' },
    { identity: 'linked', account: 'same email', mode: 'link-only', email: 'verified', outcome: 'unchanged' },
    { identity: 'linked', account: 'same email', mode: 'off', email: 'verified', outcome: 'unchanged' },
    {
      identity: 'linked, deactivated',
      account: 'same email',
      mode: 'create',
      email: 'verified',
      outcome: 'USER_DEACTIVATED',
    },
    { identity: 'none', account: 'same email', mode: 'create', email: 'verified', outcome: 'linked' },
    { identity: 'none', account: 'same email', mode: 'link-only', email: 'verified', outcome: 'linked' },
    { identity: 'none', account: 'same email', mode: 'off', email: 'verified', outcome: 'JIT_DISABLED' },
    {
      identity: 'none',
      account: 'same email',
      mode: 'create',
      email: 'unverified',
      outcome: 'EMAIL_NOT_VERIFIED',
    },
    {
      identity: 'none',
      account: 'same email',
      mode: 'link-only',
      email: 'unverified',
      outcome: 'EMAIL_NOT_VERIFIED',
    },
    {
      identity: 'none',
      account: 'same email',
      mode: 'create',
      email: 'verified',
      linking: 'never',
      outcome: 'ACCOUNT_CONFLICT',
    },
    { identity: 'none', account: 'none', mode: 'create', email: 'verified', outcome: 'created' },
    { identity: 'none', account: 'none', mode: 'create', email: 'unverified', outcome: 'EMAIL_NOT_VERIFIED' },
    { identity: 'none', account: 'none', mode: 'link-only', email: 'verified', outcome: 'JIT_DISABLED' },
    { identity: 'none', account: 'none', mode: 'off', email: 'verified', outcome: 'JIT_DISABLED' },
    {
      identity: 'none',
      account: 'none',
      mode: 'create',
      email: 'other domain',
      outcome: 'DOMAIN_NOT_ALLOWED',
    },
    {
      identity: 'none',
      account: 'none',
      mode: 'link-only',
      email: 'other domain',
      outcome: 'DOMAIN_NOT_ALLOWED',
    },
  ];

  it.each(rows.map((row) => ({ ...row, rule: row.linking ?? 'verified-email' })))(
    'identity $identity, account $account, mode $mode, email $email, linking $rule → $outcome',
    async ({ identity, account, mode, email, linking, outcome }) => {
      const { provisioner, store } = setup({
        connections: [oidcConnection({}, { mode, ...(linking ? { linking } : {}) })],
      });
      const address = email === 'other domain' ? 'ann@partner.test' : 'ann@acme.test';
      if (account === 'same email' || identity !== 'none') {
        const user = await insertUser(store, {
          email: address,
          status: identity === 'linked, deactivated' ? 'deactivated' : 'active',
          attributes: { firstName: 'Ann', lastName: 'Lee' },
        });
        if (identity !== 'none') await insertIdentity(store, user.id, 'acme-oidc', 'ann-sub');
      }
      const attempt = provisioner.provision({
        ...login,
        profile: oidcLogin({ email: address, email_verified: email !== 'unverified' }),
      });
      if (/^[A-Z_]+$/.test(outcome)) {
        await denial(attempt, outcome as Parameters<typeof denial>[1]);
      } else {
        expect((await attempt).action).toBe(outcome);
      }
    },
  );
});
