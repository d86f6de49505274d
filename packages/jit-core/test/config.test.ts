import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  createProvisioner,
  defineConnection,
  MemoryStore,
  type ConnectionInput,
  type ProvisionerOptions,
} from '../src/index.js';
import { denial, oidcConnection, oidcLogin, setup } from './fixtures.js';

function configError(options: Partial<ProvisionerOptions>): ConfigurationError {
  try {
    createProvisioner({ store: new MemoryStore(), connections: [], ...options } as ProvisionerOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('INVALID_CONFIGURATION');
    return error as ConfigurationError;
  }
  throw new Error('createProvisioner accepted an invalid configuration');
}

const broken = (patch: Record<string, unknown>) =>
  ({ ...oidcConnection(), ...patch }) as unknown as ConnectionInput;

describe('configuration is validated when the provisioner is built, naming the field', () => {
  it.each([
    ['a missing issuer', broken({ issuer: undefined }), 'issuer'],
    ['a blank issuer', broken({ issuer: '  ' }), 'issuer'],
    ['an unknown protocol', broken({ protocol: 'ldap' }), 'protocol'],
    ['an id with spaces', broken({ id: 'acme oidc' }), 'id: may only contain'],
    ['an unknown preset', broken({ preset: 'ping' }), 'preset'],
    ['an unknown JIT mode', oidcConnection({}, { mode: 'auto' as never }), 'jit.mode'],
    ['a misspelt option', oidcConnection({}, { verifiedDomain: ['acme.test'] } as never), 'verifiedDomain'],
    ['an unknown top-level option', broken({ seatLimit: 3 }), 'seatLimit'],
    [
      'a domain that is not one',
      oidcConnection({}, { verifiedDomains: ['acme test'] }),
      'jit.verifiedDomains.0',
    ],
    ['a bare wildcard', oidcConnection({}, { verifiedDomains: ['*'] }), 'jit.verifiedDomains.0'],
    [
      'a public suffix',
      oidcConnection({}, { verifiedDomains: ['co.uk'] }),
      'jit.verifiedDomains.0: is a public suffix',
    ],
    [
      'a wildcard under a public suffix',
      oidcConnection({}, { verifiedDomains: ['acme.test', '*.co.uk'] }),
      'jit.verifiedDomains.1: is a public suffix',
    ],
    [
      "a suffix of the list's private section",
      oidcConnection({}, { verifiedDomains: ['github.io'] }),
      'jit.verifiedDomains.0: is a public suffix',
    ],
    ['a top-level domain', oidcConnection({}, { verifiedDomains: ['*.com'] }), 'jit.verifiedDomains.0'],
    [
      'a role rule without roles',
      oidcConnection({}, { roleRules: [{ group: 'eng', roles: [] }] }),
      'jit.roleRules.0.roles',
    ],
    ['a blank default role', oidcConnection({}, { defaultRoles: [''] }), 'jit.defaultRoles.0'],
    [
      'an unknown sync mode',
      oidcConnection({ mapping: { firstName: { from: 'x', sync: 'daily' as never } } }),
      'mapping.firstName',
    ],
    ['a removed email field', oidcConnection({ mapping: { email: null } }), 'mapping.email'],
    [
      'no verified domain while creating accounts',
      oidcConnection({}, { verifiedDomains: [] }),
      'jit.verifiedDomains',
    ],
  ])('refuses %s', (_what, connection, field) => {
    const error = configError({ connections: [connection] });
    expect(error.message).toContain('connection "');
    expect(error.message).toContain(field);
  });

  it('accepts domains registered under a public suffix, and their wildcards', () => {
    expect(() =>
      createProvisioner({
        store: new MemoryStore(),
        tenants: [{ id: 'acme' }],
        connections: [
          oidcConnection({}, { verifiedDomains: ['acme.co.uk', '*.acme.com', 'acme.github.io'] }),
        ],
      }),
    ).not.toThrow();
  });

  it('refuses the same connection id twice', () => {
    expect(configError({ connections: [oidcConnection(), oidcConnection()] }).message).toBe(
      'Connection "acme-oidc" is configured twice.',
    );
  });

  it('refuses a negative or fractional seat limit and a tenant configured twice', () => {
    expect(configError({ tenants: [{ id: 'acme', seatLimit: -1 }] }).message).toContain('seatLimit');
    expect(configError({ tenants: [{ id: 'acme', seatLimit: 2.5 }] }).message).toContain('seatLimit');
    expect(configError({ tenants: [{ id: 'acme' }, { id: 'acme' }] }).message).toBe(
      'Tenant "acme" is configured twice.',
    );
  });

  it('refuses a connection of a tenant that is not among the configured tenants', () => {
    expect(
      configError({
        tenants: [{ id: 'acme', seatLimit: 5 }],
        connections: [oidcConnection({ tenantId: 'acmee' })],
      }).message,
    ).toBe('Connection "acme-oidc" names tenant "acmee", which is not among the configured tenants.');
  });

  it('refuses a missing store', () => {
    expect(configError({ store: undefined as never }).message).toContain('store');
  });

  it('accepts a connection with JIT off and no verified domain', () => {
    expect(() =>
      setup({ connections: [oidcConnection({}, { mode: 'off', verifiedDomains: [] })] }),
    ).not.toThrow();
  });

  it('fills in the defaults: create mode, verified-email linking, no roles, role sync on, idp authority', () => {
    const connection = defineConnection(oidcConnection());
    expect(connection).toMatchObject({
      preset: 'oidc',
      mode: 'create',
      linking: 'verified-email',
      emailAuthoritative: false,
      defaultRoles: [],
      roleRules: [],
      strictRoles: false,
      syncRoles: true,
      groupsCaseInsensitive: false,
      authority: 'idp',
      verifiedDomains: ['acme.test'],
    });
    expect(connection.mapping['email']).toMatchObject({ required: true, sync: 'every-login' });
  });

  it('normalises verified domains as it normalises emails', () => {
    expect(
      defineConnection(oidcConnection({}, { verifiedDomains: ['ACME.Test.', 'ａｃｍｅ.test'] }))
        .verifiedDomains,
    ).toEqual(['acme.test']);
  });

  it('validates a loaded connection at first use and reports an unknown one', async () => {
    const { provisioner } = setup({
      options: {
        connections: async (id: string) =>
          id === 'acme-oidc' ? oidcConnection() : id === 'bad' ? broken({ id: 'bad', issuer: '' }) : null,
      },
    });
    expect((await provisioner.provision({ connectionId: 'acme-oidc', profile: oidcLogin() })).action).toBe(
      'created',
    );
    await denial(
      provisioner.provision({ connectionId: 'bad', profile: oidcLogin() }),
      'INVALID_CONFIGURATION',
    );
    await denial(
      provisioner.provision({ connectionId: 'ghost', profile: oidcLogin() }),
      'UNKNOWN_CONNECTION',
    );
  });

  it('refuses a loader that answers with another connection than the one asked for', async () => {
    const { provisioner } = setup({ options: { connections: async () => oidcConnection({ id: 'other' }) } });
    const error = await denial(
      provisioner.provision({ connectionId: 'acme-oidc', profile: oidcLogin() }),
      'INVALID_CONFIGURATION',
    );
    expect(error.message).toBe('Connection loader returned "other" for "acme-oidc".');
  });
});

describe('configuration is frozen once built', () => {
  it('ignores later changes to the input objects', async () => {
    const input = oidcConnection();
    const { provisioner } = setup({ connections: [input] });
    input.issuer = 'https://evil.test';
    input.jit!.verifiedDomains!.push('evil.test');
    input.jit!.mode = 'off';
    await denial(
      provisioner.provision({ connectionId: 'acme-oidc', profile: oidcLogin({ iss: 'https://evil.test' }) }),
      'ISSUER_MISMATCH',
    );
    await denial(
      provisioner.provision({ connectionId: 'acme-oidc', profile: oidcLogin({ email: 'x@evil.test' }) }),
      'DOMAIN_NOT_ALLOWED',
    );
    expect((await provisioner.provision({ connectionId: 'acme-oidc', profile: oidcLogin() })).action).toBe(
      'created',
    );
  });

  it('hands out connections that cannot be changed, down to the mapping and rules', async () => {
    const { provisioner } = setup({
      connections: [oidcConnection({}, { roleRules: [{ group: 'eng', roles: ['dev'] }] })],
    });
    const connection = await provisioner.getConnection('acme-oidc');
    expect(Object.isFrozen(connection)).toBe(true);
    expect(() => ((connection as { mode: string }).mode = 'create')).toThrow(TypeError);
    expect(() => (connection.verifiedDomains as string[]).push('evil.test')).toThrow(TypeError);
    expect(() => (connection.roleRules[0]!.roles as string[]).push('admin')).toThrow(TypeError);
    expect(() => ((connection.mapping['email'] as { required: boolean }).required = false)).toThrow(
      TypeError,
    );
    expect(() => ((connection.mapping as Record<string, unknown>)['email'] = null)).toThrow(TypeError);
  });

  it('lists the connections given as a list, for adapters to check at start-up, and none from a loader', async () => {
    const { provisioner } = setup({ connections: [oidcConnection()] });
    expect(provisioner.listConnections!().map((c) => c.id)).toEqual(['acme-oidc']);
    expect(provisioner.listConnections!()[0]).toBe(await provisioner.getConnection('acme-oidc'));
    const loading = createProvisioner({
      store: new MemoryStore(),
      connections: async () => oidcConnection(),
    });
    await loading.getConnection('acme-oidc');
    expect(loading.listConnections!()).toEqual([]);
  });

  it('freezes the provisioner itself', () => {
    const { provisioner } = setup();
    expect(Object.isFrozen(provisioner)).toBe(true);
  });

  it('leaves the objects an adapter passes in protocolOptions usable (certificates, caches)', async () => {
    class ReplayCache {
      private seen = new Map<string, number>();
      save(id: string) {
        this.seen.set(id, 1);
        return this.seen.size;
      }
    }
    const cache = new ReplayCache();
    const cert = Buffer.from('-----BEGIN CERTIFICATE-----');
    const { provisioner } = setup({
      connections: [oidcConnection({ protocolOptions: { cache, cert, nested: { list: ['a'] } } })],
    });
    const connection = await provisioner.getConnection('acme-oidc');
    expect(cache.save('_id1')).toBe(1);
    expect(connection.protocolOptions['cert']).toBe(cert);
    expect(Object.isFrozen(connection.protocolOptions)).toBe(true);
  });
});
