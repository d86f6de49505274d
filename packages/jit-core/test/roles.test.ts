import { describe, expect, it } from 'vitest';
import type { ConnectionInput } from '../src/index.js';
import { denial, insertIdentity, insertUser, oidcConnection, oidcLogin, setup } from './fixtures.js';

const login = { connectionId: 'acme-oidc' } as const;

const rules = [
  { group: 'engineering', roles: ['developer'] },
  { group: 'admins', roles: ['admin', 'developer'] },
  { group: 'finance', roles: ['billing'] },
];

function withRoles(jit: NonNullable<ConnectionInput['jit']> = {}) {
  return setup({ connections: [oidcConnection({}, { roleRules: rules, ...jit })] });
}

describe('roles at account creation', () => {
  it('grants no role by default (least privilege)', async () => {
    const { provisioner } = setup();
    const result = await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['admins'] }) });
    expect(result.roles).toEqual([]);
  });

  it('grants the default roles to a person whom no rule grants one', async () => {
    const { provisioner } = withRoles({ defaultRoles: ['viewer'] });
    const result = await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['marketing'] }) });
    expect(result.roles).toEqual(['viewer']);
    expect(result.user.roles).toEqual([{ role: 'viewer', source: 'jit' }]);
  });

  it('grants the roles of every matching rule, once each, instead of the default roles', async () => {
    const { provisioner } = withRoles({ defaultRoles: ['viewer'] });
    const result = await provisioner.provision({
      ...login,
      profile: oidcLogin({ groups: ['engineering', 'admins', 'marketing'] }),
    });
    expect(result.roles).toEqual(['admin', 'developer']);
    expect(result.user.roles).toHaveLength(2);
  });

  it('reads a single group sent as a string', async () => {
    const { provisioner } = withRoles();
    const result = await provisioner.provision({ ...login, profile: oidcLogin({ groups: 'finance' }) });
    expect(result.roles).toEqual(['billing']);
  });

  it('matches group names exactly unless the connection folds case', async () => {
    const exact = withRoles();
    expect(
      (await exact.provisioner.provision({ ...login, profile: oidcLogin({ groups: ['Engineering'] }) }))
        .roles,
    ).toEqual([]);
    const folded = withRoles({ groupsCaseInsensitive: true });
    expect(
      (await folded.provisioner.provision({ ...login, profile: oidcLogin({ groups: ['Engineering'] }) }))
        .roles,
    ).toEqual(['developer']);
  });

  it('in strict mode, refuses a person in no group and creates nothing', async () => {
    const { provisioner, store } = withRoles({ strictRoles: true, defaultRoles: ['viewer'] });
    const error = await denial(provisioner.provision({ ...login, profile: oidcLogin() }), 'NO_ROLE_GRANTED');
    expect(error.message).toBe(
      'This person is in no group, and the connection requires a group that grants a role.',
    );
    expect(await store.listUsers({ limit: 10 })).toEqual([]);
  });

  it('in strict mode, admits a person whose group grants a role', async () => {
    const { provisioner } = withRoles({ strictRoles: true });
    const result = await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['finance'] }) });
    expect(result.roles).toEqual(['billing']);
  });
});

describe('roles at later logins', () => {
  it('adds the role of a group the person joined', async () => {
    const { provisioner } = withRoles();
    await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['engineering'] }) });
    const again = await provisioner.provision({
      ...login,
      profile: oidcLogin({ groups: ['engineering', 'finance'] }),
    });
    expect(again.action).toBe('updated');
    expect(again.roles).toEqual(['billing', 'developer']);
    expect(again.changes).toEqual([{ field: 'roles', from: ['developer'], to: ['billing', 'developer'] }]);
  });

  it('removes the roles of a group the person left', async () => {
    const { provisioner } = withRoles();
    await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['admins', 'finance'] }) });
    const again = await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['finance'] }) });
    expect(again.roles).toEqual(['billing']);
    expect(again.changes).toEqual([
      { field: 'roles', from: ['admin', 'billing', 'developer'], to: ['billing'] },
    ]);
  });

  it('falls back to the default roles when the person left every granting group', async () => {
    const { provisioner } = withRoles({ defaultRoles: ['viewer'] });
    await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['admins'] }) });
    const again = await provisioner.provision({ ...login, profile: oidcLogin({ groups: [] }) });
    expect(again.roles).toEqual(['viewer']);
  });

  it('in strict mode, refuses a returning person who left every granting group, and keeps their roles', async () => {
    const { provisioner, store } = withRoles({ strictRoles: true });
    const first = await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['admins'] }) });
    await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ groups: ['marketing'] }) }),
      'NO_ROLE_GRANTED',
    );
    expect((await store.findUserById(first.user.id))?.roles).toEqual(first.user.roles);
  });

  it('keeps roles granted by the directory or an administrator', async () => {
    const { provisioner, store } = withRoles();
    const ann = await insertUser(store, {
      email: 'ann@acme.test',
      roles: [
        { role: 'auditor', source: 'scim' },
        { role: 'owner', source: 'manual' },
        { role: 'admin', source: 'jit' },
      ],
    });
    await insertIdentity(store, ann.id, 'acme-oidc', 'ann-sub');
    const again = await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['finance'] }) });
    expect(again.roles).toEqual(['auditor', 'billing', 'owner']);
    expect(again.user.roles).toEqual(
      expect.arrayContaining([
        { role: 'auditor', source: 'scim' },
        { role: 'owner', source: 'manual' },
        { role: 'billing', source: 'jit' },
      ]),
    );
  });

  it('reports nothing when the groups still grant the same roles', async () => {
    const { provisioner } = withRoles();
    await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['engineering'] }) });
    const again = await provisioner.provision({
      ...login,
      profile: oidcLogin({ groups: ['engineering', 'marketing'] }),
    });
    expect(again.action).toBe('unchanged');
  });

  it('leaves roles alone at later logins when role sync is off', async () => {
    const { provisioner } = withRoles({ syncRoles: false });
    await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['admins'] }) });
    const again = await provisioner.provision({ ...login, profile: oidcLogin({ groups: [] }) });
    expect(again.roles).toEqual(['admin', 'developer']);
    expect(again.action).toBe('unchanged');
  });

  it('leaves roles and attributes alone when the directory is the authority', async () => {
    const { provisioner, store } = setup({
      connections: [oidcConnection({ authority: 'directory' }, { roleRules: rules })],
    });
    const ann = await insertUser(store, {
      email: 'ann@acme.test',
      attributes: { firstName: 'Annette' },
      roles: [{ role: 'billing', source: 'scim' }],
    });
    const linked = await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['admins'] }) });
    expect(linked).toMatchObject({
      action: 'linked',
      user: { id: ann.id, attributes: { firstName: 'Annette' } },
    });
    expect(linked.roles).toEqual(['billing']);
    expect(linked.changes).toEqual([]);
  });

  it('grants roles when linking an existing account', async () => {
    const { provisioner, store } = withRoles();
    await insertUser(store, { email: 'ann@acme.test' });
    const linked = await provisioner.provision({ ...login, profile: oidcLogin({ groups: ['finance'] }) });
    expect(linked.action).toBe('linked');
    expect(linked.roles).toEqual(['billing']);
    expect(linked.changes).toContainEqual({ field: 'roles', from: [], to: ['billing'] });
  });
});
