import {
  changeConfiguration,
  diffConfiguration,
  type ConfigurationStore,
  type StoredDomain,
} from './configuration.js';
import { defineConnection, defineTenant, type ConnectionInput, type TenantInput } from './connection.js';
import { ConfigurationError } from './errors.js';
import { uuidv7 } from './ids.js';

export interface ConfigurationImport {
  tenants?: readonly TenantInput[];
  connections: readonly ConnectionInput[];
}

export interface ConfigurationImportReport {
  readonly tenants: { readonly saved: number; readonly unchanged: number };
  readonly connections: { readonly created: number; readonly updated: number; readonly unchanged: number };
  /** Verified domains added (a domain the tenant already holds verified is left as it is). */
  readonly domains: { readonly added: number; readonly unchanged: number };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Copies a static configuration (the `{ tenants, connections }` an app reads at start-up) into a
 * configuration store, each tenant, connection and domain as one recorded change by `actor`. The
 * connections' `jit.verifiedDomains` become the tenant's verified domains (the operator vouches for
 * them). Everything is validated, and every domain checked against the other tenants', before
 * anything is written; running it again changes only what differs.
 */
export async function importConfiguration(
  store: ConfigurationStore,
  config: ConfigurationImport,
  options: { actor: string; now?: () => Date },
): Promise<ConfigurationImportReport> {
  const now = options.now ?? (() => new Date());
  const tenants = (config.tenants ?? []).map(defineTenant);
  const connections = config.connections.map((input) => ({ input, connection: defineConnection(input) }));
  const domains = new Map<string, string>();
  for (const { connection } of connections) {
    for (const domain of connection.verifiedDomains) {
      const holder = domains.get(domain);
      if (holder !== undefined && holder !== connection.tenantId) {
        throw new ConfigurationError(
          `The domain "${domain}" is verified for tenants "${holder}" and "${connection.tenantId}".`,
        );
      }
      domains.set(domain, connection.tenantId);
    }
  }
  for (const [domain, tenantId] of domains) {
    const held = await store.getDomain(domain);
    if (held && held.tenantId !== tenantId) {
      throw new ConfigurationError(
        `The domain "${domain}" of tenant "${tenantId}" is held by tenant "${held.tenantId}" in the store.`,
      );
    }
  }
  for (const { connection } of connections) {
    const held = await store.getConnection(connection.id);
    if (held && held.tenantId !== connection.tenantId) {
      throw new ConfigurationError(
        `Connection "${connection.id}" belongs to tenant "${held.tenantId}" in the store, not "${connection.tenantId}".`,
      );
    }
  }

  const report = {
    tenants: { saved: 0, unchanged: 0 },
    connections: { created: 0, updated: 0, unchanged: 0 },
    domains: { added: 0, unchanged: 0 },
  };
  const tenantIds = new Set([...tenants.map((t) => t.id), ...connections.map((c) => c.connection.tenantId)]);
  for (const id of tenantIds) {
    const tenant = tenants.find((t) => t.id === id) ?? defineTenant({ id });
    const held = await store.getTenant(id);
    const wanted = { seatLimit: tenant.seatLimit, requireProvisionedUsers: tenant.requireProvisionedUsers };
    if (
      held &&
      same({ seatLimit: held.seatLimit, requireProvisionedUsers: held.requireProvisionedUsers }, wanted)
    ) {
      report.tenants.unchanged++;
      continue;
    }
    await changeConfiguration(
      store,
      { tenantId: id, actor: options.actor, action: 'tenant.saved', target: id, at: now() },
      async (tx, version, at) => {
        const current = await tx.getTenant(id);
        await tx.putTenant({
          id,
          displayName: current?.displayName ?? null,
          ...wanted,
          version,
          createdAt: current?.createdAt ?? at,
          updatedAt: at,
        });
        return {
          result: null,
          changes: diffConfiguration(
            current
              ? { seatLimit: current.seatLimit, requireProvisionedUsers: current.requireProvisionedUsers }
              : undefined,
            wanted,
          ),
        };
      },
    );
    report.tenants.saved++;
  }
  for (const { input, connection } of connections) {
    const { verifiedDomains: _domains, ...jit } = input.jit ?? {};
    const definition: ConnectionInput = { ...input, jit };
    const held = await store.getConnection(connection.id);
    if (held && same(held.definition, definition)) {
      report.connections.unchanged++;
      continue;
    }
    await changeConfiguration(
      store,
      {
        tenantId: connection.tenantId,
        actor: options.actor,
        action: held ? 'connection.updated' : 'connection.created',
        target: connection.id,
        at: now(),
      },
      async (tx, version, at) => {
        const current = await tx.getConnection(connection.id);
        await tx.putConnection({
          id: connection.id,
          tenantId: connection.tenantId,
          definition,
          version,
          createdAt: current?.createdAt ?? at,
          updatedAt: at,
        });
        return { result: null, changes: diffConfiguration(current?.definition, definition) };
      },
    );
    if (held) report.connections.updated++;
    else report.connections.created++;
  }
  for (const [domain, tenantId] of domains) {
    const held = await store.getDomain(domain);
    if (held?.status === 'verified') {
      report.domains.unchanged++;
      continue;
    }
    await changeConfiguration(
      store,
      { tenantId, actor: options.actor, action: 'domain.verified', target: domain, at: now() },
      async (tx, version, at) => {
        const current = await tx.getDomain(domain);
        const record: StoredDomain = {
          domain,
          tenantId,
          status: 'verified',
          challenge: current?.challenge ?? uuidv7(at).replace(/-/g, ''),
          version,
          createdAt: current?.createdAt ?? at,
          verifiedAt: at,
        };
        if (current) await tx.updateDomain(record);
        else await tx.insertDomain(record);
        return {
          result: null,
          changes: [{ field: 'status', from: current?.status ?? null, to: 'verified' }],
        };
      },
    );
    report.domains.added++;
  }
  return report;
}
