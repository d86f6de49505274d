import { describe, expect, it, vi } from 'vitest';
import {
  changeConfiguration,
  createProvisioner,
  diffConfiguration,
  fromOidcClaims,
  importConfiguration,
  MemoryConfigurationStore,
  MemoryStore,
  type ConfigurationStore,
} from '../src/index.js';
import {
  runConfigurationStoreConformance,
  storedConnection,
  storedDomain,
  storedTenant,
} from '../src/testing/index.js';
import { oidcConnection } from './fixtures.js';

runConfigurationStoreConformance({
  name: 'memory',
  store: () => new MemoryConfigurationStore(),
  identities: () => new MemoryStore(),
});

async function onboard(store: ConfigurationStore, issuer = 'https://idp.globex.test') {
  await changeConfiguration(
    store,
    { tenantId: 'globex', actor: 'ops', action: 'connection.created', target: 'globex-oidc' },
    async (tx, version) => {
      await tx.putTenant(storedTenant('globex', version, { seatLimit: 1 }));
      await tx.putConnection(storedConnection('globex-oidc', 'globex', version, { issuer }));
      await tx.insertDomain(storedDomain('globex.test', 'globex', version));
      return { result: null, changes: [] };
    },
  );
}

const claims = (sub: string, iss = 'https://idp.globex.test') =>
  fromOidcClaims({ iss, sub, email: `${sub}@globex.test`, email_verified: true });

describe('a provisioner on stored configuration', () => {
  it('serves static connections and stored ones side by side, static first', async () => {
    const store = new MemoryConfigurationStore();
    await onboard(store);
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      connections: [oidcConnection()],
      configuration: store,
    });
    try {
      expect((await provisioner.getConnection('acme-oidc')).tenantId).toBe('acme');
      expect((await provisioner.getConnection('globex-oidc')).verifiedDomains).toEqual(['globex.test']);
      await expect(provisioner.getConnection('nope')).rejects.toMatchObject({ code: 'UNKNOWN_CONNECTION' });
    } finally {
      provisioner.close!();
    }
  });

  it('applies the stored tenant settings (seat limit) to logins', async () => {
    const store = new MemoryConfigurationStore();
    await onboard(store);
    const provisioner = createProvisioner({ store: new MemoryStore(), configuration: store });
    try {
      await provisioner.provision({ connectionId: 'globex-oidc', profile: claims('ann') });
      await expect(
        provisioner.provision({ connectionId: 'globex-oidc', profile: claims('bob') }),
      ).rejects.toMatchObject({ code: 'SEAT_LIMIT_REACHED' });
    } finally {
      provisioner.close!();
    }
  });

  it('reads the version on a timer, reads a connection once per version, and notices a change', async () => {
    vi.useFakeTimers();
    const store = new MemoryConfigurationStore();
    await onboard(store);
    const versionReads = vi.spyOn(store, 'configurationVersion');
    const loads = vi.spyOn(store, 'loadConnection');
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      configuration: { store, pollIntervalMs: 250 },
    });
    try {
      const first = await provisioner.getConnection('globex-oidc');
      for (let i = 0; i < 20; i++) expect(await provisioner.getConnection('globex-oidc')).toBe(first);
      expect(loads).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(1000);
      expect(versionReads.mock.calls.length).toBeGreaterThanOrEqual(4);
      expect(await provisioner.getConnection('globex-oidc')).toBe(first);
      expect(loads).toHaveBeenCalledTimes(1);

      await changeConfiguration(
        store,
        { tenantId: 'globex', actor: 'ann', action: 'connection.updated', target: 'globex-oidc' },
        async (tx, version) => {
          await tx.putConnection(
            storedConnection('globex-oidc', 'globex', version, { issuer: 'https://new.test' }),
          );
          return { result: null, changes: [] };
        },
      );
      // Until the next version read, the cached snapshot stands; after it, the new one is used.
      expect((await provisioner.getConnection('globex-oidc')).issuer).toBe('https://idp.globex.test');
      await vi.advanceTimersByTimeAsync(250);
      const second = await provisioner.getConnection('globex-oidc');
      expect(second.issuer).toBe('https://new.test');
      // The snapshot a login already holds is unchanged (frozen).
      expect(first.issuer).toBe('https://idp.globex.test');
      expect(Object.isFrozen(first)).toBe(true);
    } finally {
      provisioner.close!();
      vi.useRealTimers();
    }
  });

  it('finishes a login with the connection it started with, even if the connection changed meanwhile', async () => {
    const store = new MemoryConfigurationStore();
    await onboard(store);
    const provisioner = createProvisioner({ store: new MemoryStore(), configuration: store });
    try {
      const started = await provisioner.getConnection('globex-oidc');
      await changeConfiguration(
        store,
        { tenantId: 'globex', actor: 'ann', action: 'connection.updated', target: 'globex-oidc' },
        async (tx, version) => {
          await tx.putConnection(
            storedConnection('globex-oidc', 'globex', version, { issuer: 'https://new.test' }),
          );
          return { result: null, changes: [] };
        },
      );
      await provisioner.refreshConfiguration!();
      const result = await provisioner.provision({
        connectionId: 'globex-oidc',
        connection: started,
        profile: claims('ann'),
      });
      expect(result.action).toBe('created');
      await expect(
        provisioner.provision({ connectionId: 'globex-oidc', profile: claims('ann') }),
      ).rejects.toMatchObject({ code: 'ISSUER_MISMATCH' });
    } finally {
      provisioner.close!();
    }
  });

  it('never caches a connection read before a change that committed during the read', async () => {
    const store = new MemoryConfigurationStore();
    await onboard(store);
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      configuration: { store, pollIntervalMs: 60_000 },
    });
    try {
      await provisioner.refreshConfiguration!();
      const load = store.loadConnection.bind(store);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      vi.spyOn(store, 'loadConnection').mockImplementationOnce(async (id) => {
        const stale = await load(id);
        await gate;
        return stale;
      });
      const reading = provisioner.getConnection('globex-oidc');
      await changeConfiguration(
        store,
        { tenantId: 'globex', actor: 'ann', action: 'connection.updated', target: 'globex-oidc' },
        async (tx, version) => {
          await tx.putConnection(
            storedConnection('globex-oidc', 'globex', version, { issuer: 'https://new.test' }),
          );
          return { result: null, changes: [] };
        },
      );
      await provisioner.refreshConfiguration!();
      release();
      expect((await reading).issuer).toBe('https://idp.globex.test');
      expect((await provisioner.getConnection('globex-oidc')).issuer).toBe('https://new.test');
    } finally {
      provisioner.close!();
    }
  });

  it('keeps serving the cached configuration when the version cannot be read', async () => {
    const store = new MemoryConfigurationStore();
    await onboard(store);
    const errors: unknown[] = [];
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      configuration: { store, pollIntervalMs: 10, onError: (e) => errors.push(e) },
    });
    try {
      const first = await provisioner.getConnection('globex-oidc');
      vi.spyOn(store, 'configurationVersion').mockRejectedValue(new Error('database down'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(errors.length).toBeGreaterThan(0);
      expect(await provisioner.getConnection('globex-oidc')).toBe(first);
    } finally {
      provisioner.close!();
    }
  });
});

describe('diffConfiguration', () => {
  it('names each changed leaf by its path and hides secrets', () => {
    expect(
      diffConfiguration(
        {
          issuer: 'a',
          protocolOptions: { oidc: { clientId: 'c', clientSecret: 's1' } },
          jit: { mode: 'create' },
        },
        {
          issuer: 'b',
          protocolOptions: { oidc: { clientId: 'c', clientSecret: 's2' } },
          jit: { mode: 'create' },
        },
      ),
    ).toEqual([
      { field: 'issuer', from: 'a', to: 'b' },
      { field: 'protocolOptions.oidc.clientSecret', from: '[redacted]', to: '[redacted]' },
    ]);
    expect(diffConfiguration(undefined, { jit: { roleRules: [{ group: 'g', roles: ['r'] }] } })).toEqual([
      { field: 'jit.roleRules', from: null, to: [{ group: 'g', roles: ['r'] }] },
    ]);
  });
});

describe('importConfiguration', () => {
  it('refuses, before writing anything, a domain another tenant holds in the store', async () => {
    const store = new MemoryConfigurationStore();
    await onboard(store);
    await expect(
      importConfiguration(
        store,
        {
          connections: [
            oidcConnection({ id: 'acme-oidc' }, { verifiedDomains: ['acme.test', 'globex.test'] }),
          ],
        },
        { actor: 'ops' },
      ),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIGURATION' });
    expect(await store.configurationVersion()).toBe(1);
    expect(await store.getConnection('acme-oidc')).toBeNull();
  });

  it('stores the verified domains as the tenant’s, and logins use them', async () => {
    const store = new MemoryConfigurationStore();
    const report = await importConfiguration(store, { connections: [oidcConnection()] }, { actor: 'ops' });
    expect(report).toEqual({
      tenants: { saved: 1, unchanged: 0 },
      connections: { created: 1, updated: 0, unchanged: 0 },
      domains: { added: 1, unchanged: 0 },
    });
    expect((await store.getConnection('acme-oidc'))?.definition.jit).toEqual({});
    const provisioner = createProvisioner({ store: new MemoryStore(), configuration: store });
    try {
      expect((await provisioner.getConnection('acme-oidc')).verifiedDomains).toEqual(['acme.test']);
    } finally {
      provisioner.close!();
    }
  });
});
