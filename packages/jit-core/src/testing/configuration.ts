import { beforeEach, describe, expect, it } from 'vitest';
import {
  changeConfiguration,
  type ConfigurationStore,
  type StoredConnection,
  type StoredDomain,
  type StoredTenant,
} from '../configuration.js';
import { StoreConflictError } from '../errors.js';
import { createProvisioner } from '../provisioner.js';
import { fromOidcClaims } from '../profile.js';
import type { IdentityStore } from '../store.js';

export interface ConfigurationConformanceOptions {
  name: string;
  /** A store on empty configuration tables (each test gets a fresh one). */
  store: () => ConfigurationStore | Promise<ConfigurationStore>;
  /** The identity store logins write to, for the tests that sign in (a memory store is fine). */
  identities: () => IdentityStore | Promise<IdentityStore>;
  /** Concurrent writers in the race tests (default 10). */
  concurrency?: number;
}

const at = new Date('2026-03-01T12:00:00.123Z');

export function storedTenant(
  id: string,
  version: number,
  overrides: Partial<StoredTenant> = {},
): StoredTenant {
  return {
    id,
    displayName: null,
    seatLimit: null,
    requireProvisionedUsers: false,
    version,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

export function storedConnection(
  id: string,
  tenantId: string,
  version: number,
  overrides: Partial<StoredConnection['definition']> = {},
): StoredConnection {
  return {
    id,
    tenantId,
    version,
    createdAt: at,
    updatedAt: at,
    definition: {
      id,
      tenantId,
      protocol: 'oidc',
      issuer: `https://idp.${tenantId}.test`,
      jit: { roleRules: [{ group: 'admins', roles: ['admin'] }] },
      protocolOptions: { oidc: { clientId: 'client', redirectUri: 'https://app.test/cb' } },
      ...overrides,
    },
  };
}

export function storedDomain(
  domain: string,
  tenantId: string,
  version: number,
  status: StoredDomain['status'] = 'verified',
): StoredDomain {
  return {
    domain,
    tenantId,
    status,
    challenge: `challenge-${domain}`,
    version,
    createdAt: at,
    verifiedAt: status === 'verified' ? at : null,
  };
}

/**
 * The rules every `ConfigurationStore` must follow, as a vitest suite: versions, atomic changes
 * recorded with their actor, domains unique across tenants under concurrent claims, consistent
 * loads, and a provisioner on the store that sees a change at its next login.
 */
export function runConfigurationStoreConformance(options: ConfigurationConformanceOptions): void {
  const concurrency = options.concurrency ?? 10;
  let store: ConfigurationStore;

  const onboard = async (tenantId: string, domain: string | null, connectionId = `${tenantId}-oidc`) => {
    await changeConfiguration(
      store,
      { tenantId, actor: 'operator', action: 'tenant.saved', target: tenantId, at },
      async (tx, version) => {
        await tx.putTenant(storedTenant(tenantId, version, { seatLimit: 10 }));
        await tx.putConnection(storedConnection(connectionId, tenantId, version));
        if (domain) await tx.insertDomain(storedDomain(domain, tenantId, version));
        return { result: null, changes: [] };
      },
    );
  };

  describe(`ConfigurationStore conformance: ${options.name}`, () => {
    beforeEach(async () => {
      store = await options.store();
    });

    it('answers null for what does not exist, and starts at version 0', async () => {
      expect(await store.configurationVersion()).toBe(0);
      expect(await store.getTenant('nope')).toBeNull();
      expect(await store.getConnection('nope')).toBeNull();
      expect(await store.loadConnection('nope')).toBeNull();
      expect(await store.getDomain('nope.test')).toBeNull();
      expect(await store.listConnections('nope')).toEqual([]);
      expect(await store.listDomains('nope')).toEqual([]);
    });

    it('writes records and one event per change, each change at the next version', async () => {
      await onboard('acme', 'acme.test');
      await onboard('globex', null);
      expect(await store.configurationVersion()).toBe(2);
      expect(await store.getTenant('acme')).toEqual(storedTenant('acme', 1, { seatLimit: 10 }));
      expect(await store.getConnection('acme-oidc')).toEqual(storedConnection('acme-oidc', 'acme', 1));
      expect(await store.getDomain('acme.test')).toEqual(storedDomain('acme.test', 'acme', 1));
      expect(await store.listConnections('globex')).toEqual([storedConnection('globex-oidc', 'globex', 2)]);
      const events = await store.listConfigurationEvents({ limit: 10 });
      expect(events.map((e) => [e.version, e.tenantId, e.actor, e.action])).toEqual([
        [1, 'acme', 'operator', 'tenant.saved'],
        [2, 'globex', 'operator', 'tenant.saved'],
      ]);
      expect(events[0]!.at).toEqual(at);
      expect(await store.listConfigurationEvents({ tenantId: 'globex', limit: 10 })).toHaveLength(1);
      expect(await store.listConfigurationEvents({ afterVersion: 1, limit: 10 })).toHaveLength(1);
    });

    it('loads a connection with its tenant and only its verified domains', async () => {
      await onboard('acme', 'acme.test');
      await changeConfiguration(
        store,
        { tenantId: 'acme', actor: 'ann', action: 'domain.claimed', target: 'acme.example' },
        async (tx, version) => {
          await tx.insertDomain(storedDomain('acme.example', 'acme', version, 'pending'));
          await tx.insertDomain(storedDomain('b.acme.test', 'acme', version, 'verified'));
          return { result: null, changes: [] };
        },
      );
      const loaded = await store.loadConnection('acme-oidc');
      expect(loaded?.connection.id).toBe('acme-oidc');
      expect(loaded?.tenant?.seatLimit).toBe(10);
      expect([...loaded!.verifiedDomains].sort()).toEqual(['acme.test', 'b.acme.test']);
    });

    it('leaves nothing written, not even the version, when a change fails', async () => {
      await onboard('acme', 'acme.test');
      await expect(
        changeConfiguration(
          store,
          { tenantId: 'acme', actor: 'ann', action: 'connection.updated', target: 'acme-oidc' },
          async (tx, version) => {
            await tx.putConnection(
              storedConnection('acme-oidc', 'acme', version, { issuer: 'https://x.test' }),
            );
            await tx.deleteDomain('acme.test');
            throw new Error('refused halfway');
          },
        ),
      ).rejects.toThrow('refused halfway');
      expect(await store.configurationVersion()).toBe(1);
      expect((await store.getConnection('acme-oidc'))?.definition.issuer).toBe('https://idp.acme.test');
      expect(await store.getDomain('acme.test')).not.toBeNull();
      expect(await store.listConfigurationEvents({ limit: 10 })).toHaveLength(1);
    });

    it('gives a domain to exactly one of several tenants claiming it at once', async () => {
      const claims = await Promise.allSettled(
        Array.from({ length: concurrency }, (_, i) =>
          changeConfiguration(
            store,
            { tenantId: `t${i}`, actor: 'admin', action: 'domain.claimed', target: 'contested.test' },
            async (tx, version) => {
              if (await tx.getDomain('contested.test')) throw new StoreConflictError('other');
              await tx.insertDomain(storedDomain('contested.test', `t${i}`, version, 'pending'));
              return { result: i, changes: [] };
            },
          ),
        ),
      );
      const won = claims.filter((c) => c.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const c of claims) {
        if (c.status === 'rejected') expect(c.reason).toBeInstanceOf(StoreConflictError);
      }
      const winner = (won[0] as PromiseFulfilledResult<{ result: number }>).value.result;
      expect((await store.getDomain('contested.test'))?.tenantId).toBe(`t${winner}`);
      expect(await store.configurationVersion()).toBe(1);
    });

    it('refuses, by its unique key, a domain inserted twice without a prior read', async () => {
      await onboard('acme', 'acme.test');
      await expect(
        store.configurationTransaction(async (tx) => {
          await tx.nextVersion();
          await tx.insertDomain(storedDomain('acme.test', 'globex', 2, 'pending'));
        }),
      ).rejects.toBeInstanceOf(StoreConflictError);
      expect((await store.getDomain('acme.test'))?.tenantId).toBe('acme');
    });

    it('numbers concurrent changes without gaps or repeats', async () => {
      const versions = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          changeConfiguration(
            store,
            { tenantId: `t${i}`, actor: 'admin', action: 'tenant.saved', target: `t${i}` },
            async (tx, version) => {
              await tx.putTenant(storedTenant(`t${i}`, version));
              return { result: version, changes: [] };
            },
          ).then((done) => done.result),
        ),
      );
      expect([...versions].sort((a, b) => a - b)).toEqual(
        Array.from({ length: concurrency }, (_, i) => i + 1),
      );
      expect(await store.configurationVersion()).toBe(concurrency);
    });

    it('signs in with a stored connection, and uses an edited one at the next login', async () => {
      await onboard('acme', 'acme.test');
      const provisioner = createProvisioner({
        store: await options.identities(),
        configuration: { store, pollIntervalMs: 60_000 },
      });
      try {
        const login = (sub: string, groups: string[]) =>
          provisioner.provision({
            connectionId: 'acme-oidc',
            profile: fromOidcClaims({
              iss: 'https://idp.acme.test',
              sub,
              email: `${sub}@acme.test`,
              email_verified: true,
              groups,
            }),
          });
        expect((await login('ann', ['admins'])).roles).toEqual(['admin']);
        await changeConfiguration(
          store,
          { tenantId: 'acme', actor: 'ann', action: 'connection.updated', target: 'acme-oidc' },
          async (tx, version) => {
            await tx.putConnection(
              storedConnection('acme-oidc', 'acme', version, {
                jit: { roleRules: [{ group: 'admins', roles: ['owner'] }] },
              }),
            );
            return { result: null, changes: [] };
          },
        );
        await provisioner.refreshConfiguration!();
        expect((await login('ann', ['admins'])).roles).toEqual(['owner']);
        // A person of a domain the tenant has not verified is refused.
        await expect(
          provisioner.provision({
            connectionId: 'acme-oidc',
            profile: fromOidcClaims({
              iss: 'https://idp.acme.test',
              sub: 'eve',
              email: 'eve@elsewhere.test',
              email_verified: true,
            }),
          }),
        ).rejects.toMatchObject({ code: 'DOMAIN_NOT_ALLOWED' });
      } finally {
        provisioner.close!();
      }
    });
  });
}
