import { expect } from 'vitest';
import type { DataSource } from 'typeorm';
import { createProvisioner, fromOidcClaims, type JitError, type ProvisioningResult } from '@jit-sso/core';
import type { ConformanceDb } from '@jit-sso/core/testing';
import { dialectOf, type TypeormStore } from '../src/index.js';

const TABLES = { users: 'jit_users', identities: 'jit_identities', audit: 'jit_audit_events' } as const;

/** Counts and resets through plain SQL on the DataSource, never through the store. */
export function conformanceDb(
  dataSource: () => DataSource,
  usersTable: string = TABLES.users,
  usersTenantColumn = 'tenant_id',
): ConformanceDb {
  const q = (name: string) => (dialectOf(dataSource()) === 'mysql' ? `\`${name}\`` : `"${name}"`);
  const p = (n: number) => (dialectOf(dataSource()) === 'postgres' ? `$${n}` : '?');
  return {
    async count(table, where = {}) {
      const name = table === 'users' ? usersTable : TABLES[table];
      const tenantColumn = table === 'users' ? usersTenantColumn : 'tenant_id';
      const filter = where.tenantId === undefined ? '' : ` WHERE ${q(tenantColumn)} = ${p(1)}`;
      const rows: { n: string | number }[] = await dataSource().query(
        `SELECT COUNT(*) AS n FROM ${q(name)}${filter}`,
        where.tenantId === undefined ? [] : [where.tenantId],
      );
      return Number(rows[0]!.n);
    },
    async reset() {
      for (const table of [TABLES.audit, TABLES.identities, usersTable, 'jit_tenants']) {
        await dataSource().query(`DELETE FROM ${q(table)}`);
      }
    },
  };
}

export const TENANT = 'acme';
export const CONNECTION = {
  id: 'acme-oidc',
  tenantId: TENANT,
  protocol: 'oidc' as const,
  issuer: 'https://idp.acme.test',
  jit: { verifiedDomains: ['acme.test'] },
};

export function profile(sub: string, email = `${sub}@acme.test`) {
  return fromOidcClaims({ iss: CONNECTION.issuer, sub, email, email_verified: true });
}

/** `n` simultaneous first logins of one person: one user, one identity, one "created" event, n results naming it. */
export async function expectOneWinner(store: TypeormStore, db: ConformanceDb, n: number): Promise<void> {
  const provisioner = createProvisioner({ store, connections: [CONNECTION] });
  const results = await Promise.all(
    Array.from({ length: n }, () =>
      provisioner.provision({ connectionId: CONNECTION.id, profile: profile('same-subject') }),
    ),
  );
  const ids = new Set(results.map((r: ProvisioningResult) => r.user.id));
  expect(ids.size).toBe(1);
  expect(results).toHaveLength(n);
  expect(results.filter((r) => r.action === 'created')).toHaveLength(1);
  expect(await db.count('users')).toBe(1);
  expect(await db.count('identities')).toBe(1);
  const events = await store.listAuditEvents({ tenantId: TENANT, limit: 10 * n });
  expect(events.filter((e) => e.action === 'created')).toHaveLength(1);
  expect(events.filter((e) => e.action === 'created')[0]!.userId).toBe([...ids][0]);
  expect(events.filter((e) => e.action === 'denied')).toHaveLength(0);
}

/** `n` simultaneous first logins of different people at a seat limit: exactly `limit` created, the rest denied. */
export async function expectSeatLimitHolds(
  store: TypeormStore,
  db: ConformanceDb,
  n: number,
  limit: number,
): Promise<void> {
  const provisioner = createProvisioner({
    store,
    connections: [CONNECTION],
    tenants: [{ id: TENANT, seatLimit: limit }],
  });
  const outcomes = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      provisioner.provision({ connectionId: CONNECTION.id, profile: profile(`person-${i}`) }),
    ),
  );
  const created = outcomes.filter((o) => o.status === 'fulfilled');
  const denied = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as JitError] : []));
  expect(created).toHaveLength(limit);
  expect(denied).toHaveLength(n - limit);
  expect(new Set(denied.map((e) => e.code))).toEqual(new Set(['SEAT_LIMIT_REACHED']));
  expect(await db.count('users', { tenantId: TENANT })).toBe(limit);
  expect(await db.count('identities')).toBe(limit);
}

/**
 * `n` simultaneous logins carrying the same single-use message (one SAML response posted `n` times at
 * once, to several copies of the app): one login, `n - 1` refusals as replays.
 */
export async function expectOneUseOfAMessage(stores: TypeormStore[], n: number): Promise<void> {
  const provisioners = stores.map((store) => createProvisioner({ store, connections: [CONNECTION] }));
  const message = {
    key: `https://idp.acme.test\n_${Math.random()}`,
    expiresAt: new Date(Date.now() + 300_000),
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      provisioners[i % provisioners.length]!.provision({
        connectionId: CONNECTION.id,
        profile: profile('replayed'),
        singleUse: message,
      }),
    ),
  );
  expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as JitError).code] : []));
  expect(refused).toEqual(Array.from({ length: n - 1 }, () => 'SAML_REPLAY'));
}

/** Entities and committed migrations agree: after migrating, TypeORM finds nothing left to change. */
export async function expectNoPendingSchemaChanges(dataSource: DataSource): Promise<void> {
  const log = await dataSource.driver.createSchemaBuilder().log();
  expect(log.upQueries.map((q) => q.query)).toEqual([]);
}
