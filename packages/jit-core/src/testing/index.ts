import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { JitError } from '../errors.js';
import { StoreConflictError } from '../errors.js';
import { uuidv7 } from '../ids.js';
import type { AuditEvent, UserRecord } from '../model.js';
import { fromOidcClaims } from '../profile.js';
import { createProvisioner } from '../provisioner.js';
import type { IdentityStore, NewUser, StoreTransaction } from '../store.js';

/** Direct access to the database behind a store, so that the store does not grade itself. */
export interface ConformanceDb {
  /** Row counts read from the database directly, not through the store. */
  count(table: 'users' | 'identities' | 'audit', where?: { tenantId?: string }): Promise<number>;
  /** Empties the store's tables. */
  reset(): Promise<void>;
}

export interface StoreConformanceOptions {
  name: string;
  store: () => IdentityStore | Promise<IdentityStore>;
  db: ConformanceDb;
  /** Concurrent logins in the race tests (default 20). */
  concurrency?: number;
}

const T = 'tenant-a';
const ms = (iso: string) => new Date(iso);

export function newUser(overrides: Partial<NewUser> = {}): NewUser {
  return {
    id: randomUUID(),
    tenantId: T,
    email: `${randomUUID().slice(0, 8)}@acme.test`,
    status: 'active',
    source: 'jit',
    attributes: { firstName: 'Ann', groups: ['a', 'b'] },
    roles: [{ role: 'member', source: 'jit' }],
    externalId: null,
    createdAt: ms('2026-01-01T10:00:00.123Z'),
    lastLoginAt: ms('2026-01-02T10:00:00.456Z'),
    ...overrides,
  };
}

function auditEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  const at = overrides.at ?? new Date();
  return {
    id: uuidv7(at),
    at,
    tenantId: T,
    actor: 'jit',
    action: 'created',
    connectionId: 'c1',
    subject: 's1',
    userId: null,
    reason: null,
    changes: [{ field: 'email', from: null, to: 'ann@acme.test' }],
    ...overrides,
  };
}

class Rollback extends Error {}

/**
 * The contract of `IdentityStore` as tests. Every store runs it:
 *
 * ```ts
 * runStoreConformance({ name: 'postgres', store: () => new TypeormStore(ds), db: { count, reset } });
 * ```
 *
 * One long suite on purpose: it reads as the store's specification, one `it` per rule.
 */
export function runStoreConformance(options: StoreConformanceOptions): void {
  const { db } = options;
  const concurrency = options.concurrency ?? 20;
  let store: IdentityStore;
  const write = <R>(work: (tx: StoreTransaction) => Promise<R>) => store.transaction(work);

  describe(`IdentityStore conformance: ${options.name}`, () => {
    beforeEach(async () => {
      await db.reset();
      store = await options.store();
    });

    describe('reads', () => {
      it('answers null, not an error, for what does not exist', async () => {
        expect(await store.findUserById(randomUUID())).toBeNull();
        expect(await store.findUserByEmail(T, 'nobody@acme.test')).toBeNull();
        expect(await store.findIdentity('c1', 'nobody')).toBeNull();
        expect(await store.listIdentitiesOfUser(randomUUID())).toEqual([]);
      });

      it('returns a user as it was written, dates to the millisecond', async () => {
        const input = newUser({ externalId: 'ext-1', attributes: { firstName: 'Zoë', tags: ['x', 'y'] } });
        const written = await write((tx) => tx.insertUser(input));
        const read = await store.findUserById(input.id);
        for (const user of [written, read!]) {
          expect(user).toMatchObject({
            id: input.id,
            tenantId: T,
            email: input.email,
            status: 'active',
            source: 'jit',
            attributes: { firstName: 'Zoë', tags: ['x', 'y'] },
            externalId: 'ext-1',
            deactivatedAt: null,
          });
          expect(user.roles).toEqual([{ role: 'member', source: 'jit' }]);
          expect(user.createdAt.toISOString()).toBe('2026-01-01T10:00:00.123Z');
          expect(user.lastLoginAt?.toISOString()).toBe('2026-01-02T10:00:00.456Z');
          expect(user.updatedAt).toBeInstanceOf(Date);
        }
      });

      it('compares emails byte for byte, not by database collation', async () => {
        await write((tx) => tx.insertUser(newUser({ email: 'josé@acme.test' })));
        expect(await store.findUserByEmail(T, 'jose@acme.test')).toBeNull();
        expect(await store.findUserByEmail(T, 'JOSÉ@acme.test')).toBeNull();
        expect((await store.findUserByEmail(T, 'josé@acme.test'))?.email).toBe('josé@acme.test');
        // Distinct addresses that a case- or accent-insensitive collation would merge can both exist.
        await write((tx) => tx.insertUser(newUser({ email: 'jose@acme.test' })));
        await write((tx) => tx.insertUser(newUser({ email: 'strasse@acme.test' })));
        await write((tx) => tx.insertUser(newUser({ email: 'straße@acme.test' })));
        expect(await db.count('users')).toBe(4);
      });

      it('scopes emails to a tenant', async () => {
        await write((tx) => tx.insertUser(newUser({ email: 'ann@acme.test' })));
        await write((tx) => tx.insertUser(newUser({ tenantId: 'tenant-b', email: 'ann@acme.test' })));
        expect((await store.findUserByEmail('tenant-b', 'ann@acme.test'))?.tenantId).toBe('tenant-b');
        expect((await store.findUserByEmail(T, 'ann@acme.test'))?.tenantId).toBe(T);
      });

      it('finds an identity together with its user, and lists a user’s identities', async () => {
        const user = newUser();
        await write(async (tx) => {
          await tx.insertUser(user);
          await tx.insertIdentity({
            id: randomUUID(),
            tenantId: T,
            connectionId: 'c1',
            subject: 'S-1',
            userId: user.id,
            createdAt: new Date(),
          });
          await tx.insertIdentity({
            id: randomUUID(),
            tenantId: T,
            connectionId: 'c2',
            subject: 'S-1',
            userId: user.id,
            createdAt: new Date(),
          });
        });
        const found = await store.findIdentity('c1', 'S-1');
        expect(found?.identity).toMatchObject({
          connectionId: 'c1',
          subject: 'S-1',
          userId: user.id,
          tenantId: T,
        });
        expect(found?.user.id).toBe(user.id);
        expect(await store.findIdentity('c1', 's-1')).toBeNull(); // subjects are case-sensitive
        const identities = await store.listIdentitiesOfUser(user.id);
        expect(identities.map((i) => i.connectionId).sort()).toEqual(['c1', 'c2']);
      });
    });

    describe('unique keys', () => {
      it('refuses a second user with the same email in a tenant with StoreConflictError("email")', async () => {
        await write((tx) => tx.insertUser(newUser({ email: 'ann@acme.test' })));
        const error = await write((tx) => tx.insertUser(newUser({ email: 'ann@acme.test' }))).catch((e) => e);
        expect(error).toBeInstanceOf(StoreConflictError);
        expect((error as StoreConflictError).constraint).toBe('email');
        expect(await db.count('users')).toBe(1);
      });

      it('refuses a second identity for (connection, subject) with StoreConflictError("identity")', async () => {
        const a = newUser();
        const b = newUser();
        await write(async (tx) => {
          await tx.insertUser(a);
          await tx.insertUser(b);
          await tx.insertIdentity({
            id: randomUUID(),
            tenantId: T,
            connectionId: 'c1',
            subject: 'S',
            userId: a.id,
            createdAt: new Date(),
          });
        });
        const error = await write((tx) =>
          tx.insertIdentity({
            id: randomUUID(),
            tenantId: T,
            connectionId: 'c1',
            subject: 'S',
            userId: b.id,
            createdAt: new Date(),
          }),
        ).catch((e) => e);
        expect(error).toBeInstanceOf(StoreConflictError);
        expect((error as StoreConflictError).constraint).toBe('identity');
        expect(await db.count('identities')).toBe(1);
      });

      it('refuses an email change onto another user’s email', async () => {
        const a = newUser({ email: 'a@acme.test' });
        const b = newUser({ email: 'b@acme.test' });
        await write(async (tx) => {
          await tx.insertUser(a);
          await tx.insertUser(b);
        });
        const error = await write((tx) =>
          tx.updateUser(b.id, { email: 'a@acme.test', updatedAt: new Date() }),
        ).catch((e) => e);
        expect(error).toBeInstanceOf(StoreConflictError);
        expect((await store.findUserById(b.id))?.email).toBe('b@acme.test');
      });
    });

    describe('updates', () => {
      it('applies a patch and returns the updated user', async () => {
        const user = newUser();
        await write((tx) => tx.insertUser(user));
        const at = ms('2026-03-01T00:00:00.789Z');
        const updated = await write((tx) =>
          tx.updateUser(user.id, {
            email: 'new@acme.test',
            attributes: { firstName: 'Anna' },
            roles: [
              { role: 'admin', source: 'scim' },
              { role: 'viewer', source: 'jit' },
            ],
            status: 'deactivated',
            deactivatedAt: at,
            lastLoginAt: at,
            externalId: 'ext-9',
            updatedAt: at,
          }),
        );
        const read = await store.findUserById(user.id);
        for (const u of [updated, read!]) {
          expect(u.email).toBe('new@acme.test');
          expect(u.attributes).toEqual({ firstName: 'Anna' });
          expect([...u.roles].sort((x, y) => x.role.localeCompare(y.role))).toEqual([
            { role: 'admin', source: 'scim' },
            { role: 'viewer', source: 'jit' },
          ]);
          expect(u.status).toBe('deactivated');
          expect(u.deactivatedAt?.toISOString()).toBe(at.toISOString());
          expect(u.lastLoginAt?.toISOString()).toBe(at.toISOString());
          expect(u.updatedAt.toISOString()).toBe(at.toISOString());
          expect(u.externalId).toBe('ext-9');
          expect(u.createdAt.toISOString()).toBe('2026-01-01T10:00:00.123Z');
        }
        expect(await store.findUserByEmail(T, user.email)).toBeNull();
        expect((await store.findUserByEmail(T, 'new@acme.test'))?.id).toBe(user.id);
      });

      it('leaves fields the patch does not name as they were', async () => {
        const user = newUser({ externalId: 'keep' });
        await write((tx) => tx.insertUser(user));
        await write((tx) => tx.updateUser(user.id, { lastLoginAt: new Date(), updatedAt: new Date() }));
        const read = await store.findUserById(user.id);
        expect(read).toMatchObject({
          email: user.email,
          externalId: 'keep',
          attributes: user.attributes,
          status: 'active',
        });
        expect(read?.roles).toEqual(user.roles);
      });
    });

    describe('transactions', () => {
      it('returns what the work returns and commits it', async () => {
        const user = newUser();
        const value = await write(async (tx) => {
          await tx.insertUser(user);
          return 42;
        });
        expect(value).toBe(42);
        expect(await db.count('users')).toBe(1);
      });

      it('rolls every write back when the work throws, and rethrows the same error', async () => {
        const user = newUser();
        const failure = new Rollback('stop');
        const error = await write(async (tx) => {
          await tx.insertUser(user);
          await tx.insertIdentity({
            id: randomUUID(),
            tenantId: T,
            connectionId: 'c1',
            subject: 'S',
            userId: user.id,
            createdAt: new Date(),
          });
          await tx.appendAudit(auditEvent({ userId: user.id }));
          throw failure;
        }).catch((e) => e);
        expect(error).toBe(failure);
        expect(await db.count('users')).toBe(0);
        expect(await db.count('identities')).toBe(0);
        expect(await db.count('audit')).toBe(0);
        expect(await store.findUserById(user.id)).toBeNull();
      });

      it('rolls back an update too', async () => {
        const user = newUser({ email: 'keep@acme.test' });
        await write((tx) => tx.insertUser(user));
        await write(async (tx) => {
          await tx.updateUser(user.id, {
            email: 'gone@acme.test',
            status: 'deactivated',
            updatedAt: new Date(),
          });
          throw new Rollback('stop');
        }).catch(() => undefined);
        const read = await store.findUserById(user.id);
        expect(read).toMatchObject({ email: 'keep@acme.test', status: 'active' });
        expect(await store.findUserByEmail(T, 'gone@acme.test')).toBeNull();
      });

      it('reads its own writes inside the transaction', async () => {
        const user = newUser();
        await write(async (tx) => {
          await tx.insertUser(user);
          expect((await tx.findUserByEmail(T, user.email))?.id).toBe(user.id);
          expect((await tx.findUserById(user.id))?.email).toBe(user.email);
        });
      });
    });

    describe('single use', () => {
      const use = (key: string, connectionId = 'c1', expiresInMs = 60_000, at = new Date()) => ({
        connectionId,
        key,
        expiresAt: new Date(at.getTime() + expiresInMs),
        at,
      });

      it('records a message once per connection, and takes over a record that expired', async () => {
        const key = randomUUID();
        expect(await write((tx) => tx.useOnce(use(key)))).toBe(true);
        expect(await write((tx) => tx.useOnce(use(key)))).toBe(false);
        expect(await write((tx) => tx.useOnce(use(key, 'c2')))).toBe(true);
        const expired = randomUUID();
        expect(await write((tx) => tx.useOnce(use(expired, 'c1', 10)))).toBe(true);
        const later = new Date(Date.now() + 1000);
        expect(await write((tx) => tx.useOnce(use(expired, 'c1', 60_000, later)))).toBe(true);
        expect(await write((tx) => tx.useOnce(use(expired, 'c1', 60_000, later)))).toBe(false);
      });

      it('forgets a use whose transaction rolled back', async () => {
        const key = randomUUID();
        await write(async (tx) => {
          expect(await tx.useOnce(use(key))).toBe(true);
          throw new Rollback('stop');
        }).catch(() => undefined);
        expect(await write((tx) => tx.useOnce(use(key)))).toBe(true);
      });

      it('lets exactly one of concurrent transactions use a message; the others are refused or retried', async () => {
        const key = randomUUID();
        const outcomes = await Promise.allSettled(
          Array.from({ length: Math.min(concurrency, 10) }, () =>
            write(async (tx) => {
              const first = await tx.useOnce(use(key));
              // Hold the transaction open so that the others ask while it is uncommitted.
              await new Promise((resolve) => setTimeout(resolve, 20));
              return first;
            }),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value)).toHaveLength(1);
        // A loser learns it lost (false) or, where the database chose it as a deadlock victim, gets
        // StoreConflictError, which the engine retries (and the retry reads false).
        for (const o of outcomes) {
          if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(StoreConflictError);
        }
      });

      it('prunes records that expired, and only those', async () => {
        const now = Date.now();
        const old = randomUUID();
        const live = randomUUID();
        await write((tx) => tx.useOnce(use(old, 'c1', 10, new Date(now - 60_000))));
        await write((tx) => tx.useOnce(use(live, 'c1', 60_000, new Date(now))));
        expect(await store.pruneSingleUse(new Date(now))).toBeGreaterThanOrEqual(1);
        // The pruned record can be taken again at its old time; the live one cannot.
        expect(await write((tx) => tx.useOnce(use(old, 'c1', 10, new Date(now - 60_000))))).toBe(true);
        expect(await write((tx) => tx.useOnce(use(live, 'c1', 60_000, new Date(now))))).toBe(false);
      });
    });

    describe('seats', () => {
      it('grants a seat only while the tenant has fewer active users than the limit', async () => {
        await write(async (tx) => {
          await tx.insertUser(newUser());
          await tx.insertUser(newUser());
          await tx.insertUser(newUser({ status: 'deactivated' }));
          await tx.insertUser(newUser({ tenantId: 'tenant-b' }));
        });
        expect(await write((tx) => tx.acquireSeat(T, 3))).toBe(true);
        expect(await write((tx) => tx.acquireSeat(T, 2))).toBe(false);
        expect(await write((tx) => tx.acquireSeat('tenant-c', 1))).toBe(true);
      });

      it(`holds a seat limit of 5 under ${concurrency} concurrent first logins`, async () => {
        const provisioner = createProvisioner({
          store,
          tenants: [{ id: T, seatLimit: 5 }],
          connections: [
            {
              id: 'c1',
              tenantId: T,
              protocol: 'oidc',
              issuer: 'https://idp.test',
              jit: { verifiedDomains: ['acme.test'] },
            },
          ],
        });
        const outcomes = await Promise.allSettled(
          Array.from({ length: concurrency }, (_, i) =>
            provisioner.provision({
              connectionId: 'c1',
              profile: fromOidcClaims({
                iss: 'https://idp.test',
                sub: `sub-${i}`,
                email: `p${i}@acme.test`,
                email_verified: true,
              }),
            }),
          ),
        );
        const created = outcomes.filter((o) => o.status === 'fulfilled');
        const denied = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
        expect(created).toHaveLength(5);
        expect(denied).toHaveLength(concurrency - 5);
        for (const error of denied) expect((error as JitError).code).toBe('SEAT_LIMIT_REACHED');
        expect(await db.count('users', { tenantId: T })).toBe(5);
        expect(await db.count('identities')).toBe(5);
      });
    });

    describe('concurrent first logins', () => {
      it(`ends ${concurrency} simultaneous first logins of one subject with one user and ${concurrency} results`, async () => {
        const provisioner = createProvisioner({
          store,
          connections: [
            {
              id: 'c1',
              tenantId: T,
              protocol: 'oidc',
              issuer: 'https://idp.test',
              jit: { verifiedDomains: ['acme.test'] },
            },
          ],
        });
        const profile = fromOidcClaims({
          iss: 'https://idp.test',
          sub: 'same',
          email: 'same@acme.test',
          email_verified: true,
        });
        const results = await Promise.all(
          Array.from({ length: concurrency }, () => provisioner.provision({ connectionId: 'c1', profile })),
        );
        const ids = new Set(results.map((r) => r.user.id));
        expect(ids.size).toBe(1);
        expect(results.filter((r) => r.action === 'created')).toHaveLength(1);
        expect(await db.count('users')).toBe(1);
        expect(await db.count('identities')).toBe(1);
        const events = await store.listAuditEvents({ tenantId: T, limit: 1000 });
        expect(events.filter((e) => e.action === 'created')).toHaveLength(1);
        expect(events).toHaveLength(concurrency);
      });
    });

    describe('listing', () => {
      async function seed(): Promise<UserRecord[]> {
        const users = [
          newUser({
            id: '00000000-0000-4000-8000-000000000001',
            createdAt: ms('2025-01-01T00:00:00Z'),
            lastLoginAt: null,
          }),
          newUser({ id: '00000000-0000-4000-8000-000000000002', lastLoginAt: ms('2025-06-01T00:00:00Z') }),
          newUser({ id: '00000000-0000-4000-8000-000000000003', lastLoginAt: ms('2026-06-01T00:00:00Z') }),
          newUser({
            id: '00000000-0000-4000-8000-000000000004',
            lastLoginAt: ms('2025-06-01T00:00:00Z'),
            status: 'deactivated',
          }),
          newUser({
            id: '00000000-0000-4000-8000-000000000005',
            lastLoginAt: ms('2025-06-01T00:00:00Z'),
            source: 'scim',
            externalId: 'EXT-5',
          }),
          newUser({
            id: '00000000-0000-4000-8000-000000000006',
            tenantId: 'tenant-b',
            lastLoginAt: ms('2025-06-01T00:00:00Z'),
          }),
        ];
        await write(async (tx) => {
          for (const u of users) await tx.insertUser(u);
        });
        return users.map((u) => ({ ...u, updatedAt: u.createdAt, deactivatedAt: null }) as UserRecord);
      }
      const ids = (users: UserRecord[]) => users.map((u) => u.id.slice(-1));

      it('finds dormant active users of a tenant, counting never-logged-in users from creation, page by page', async () => {
        await seed();
        const cutoff = ms('2026-01-01T00:00:00Z');
        const first = await store.findDormantUsers(T, cutoff, { limit: 2 });
        expect(ids(first)).toEqual(['1', '2']);
        const second = await store.findDormantUsers(T, cutoff, { limit: 2, afterId: first[1]!.id });
        expect(ids(second)).toEqual(['5']);
        expect(await store.findDormantUsers(T, ms('2024-01-01T00:00:00Z'), { limit: 10 })).toEqual([]);
      });

      it('lists users by tenant, status, source and last sign-in, in id order, with paging', async () => {
        await seed();
        expect(ids(await store.listUsers({ tenantId: T, limit: 10 }))).toEqual(['1', '2', '3', '4', '5']);
        expect(ids(await store.listUsers({ tenantId: T, status: 'deactivated', limit: 10 }))).toEqual(['4']);
        expect(ids(await store.listUsers({ source: 'scim', limit: 10 }))).toEqual(['5']);
        expect(ids(await store.listUsers({ externalId: 'EXT-5', limit: 10 }))).toEqual(['5']);
        expect(await store.listUsers({ externalId: 'ext-5', limit: 10 })).toEqual([]);
        expect(
          ids(await store.listUsers({ tenantId: T, notSeenSince: ms('2026-01-01T00:00:00Z'), limit: 10 })),
        ).toEqual(['1', '2', '4', '5']);
        expect(
          ids(await store.listUsers({ limit: 2, afterId: '00000000-0000-4000-8000-000000000004' })),
        ).toEqual(['5', '6']);
        expect(await store.countUsers({ tenantId: T })).toEqual({ active: 4, deactivated: 1 });
        const [third] = await store.listUsers({
          tenantId: T,
          afterId: '00000000-0000-4000-8000-000000000002',
          limit: 1,
        });
        expect(ids(await store.listUsers({ email: third!.email, limit: 10 }))).toEqual(['3']);
        expect(await store.listUsers({ email: third!.email.toUpperCase(), limit: 10 })).toEqual([]);
        expect(await store.countUsers({ tenantId: T, email: third!.email })).toEqual({
          active: 1,
          deactivated: 0,
        });
        expect(await store.countUsers({ tenantId: 'tenant-b' })).toEqual({ active: 1, deactivated: 0 });
      });

      it('keeps audit events with their changes and pages them in id (time) order', async () => {
        const base = Date.parse('2026-02-01T00:00:00Z');
        const events = Array.from({ length: 5 }, (_, i) =>
          auditEvent({
            at: new Date(base + i * 1000),
            tenantId: i === 4 ? 'tenant-b' : T,
            reason: i === 2 ? 'DOMAIN_NOT_ALLOWED' : null,
          }),
        );
        await write(async (tx) => {
          for (const e of [...events].reverse()) await tx.appendAudit(e);
        });
        const all = await store.listAuditEvents({ limit: 10 });
        expect(all.map((e) => e.id)).toEqual(events.map((e) => e.id));
        expect(all[2]).toMatchObject({
          reason: 'DOMAIN_NOT_ALLOWED',
          actor: 'jit',
          action: 'created',
          connectionId: 'c1',
          subject: 's1',
        });
        expect(all[0]!.changes).toEqual([{ field: 'email', from: null, to: 'ann@acme.test' }]);
        expect(all[0]!.at.toISOString()).toBe(events[0]!.at.toISOString());
        const page = await store.listAuditEvents({ tenantId: T, afterId: events[1]!.id, limit: 10 });
        expect(page.map((e) => e.id)).toEqual([events[2]!.id, events[3]!.id]);
        const since = await store.listAuditEvents({ since: events[3]!.at, limit: 10 });
        expect(since.map((e) => e.id)).toEqual([events[3]!.id, events[4]!.id]);
        expect(await db.count('audit', { tenantId: 'tenant-b' })).toBe(1);
      });
    });

    describe('through the engine', () => {
      it('creates, signs in again, and audits each decision in the database', async () => {
        const provisioner = createProvisioner({
          store,
          connections: [
            {
              id: 'c1',
              tenantId: T,
              protocol: 'oidc',
              issuer: 'https://idp.test',
              jit: { verifiedDomains: ['acme.test'], roleRules: [{ group: 'eng', roles: ['developer'] }] },
            },
          ],
        });
        const claims = {
          iss: 'https://idp.test',
          sub: 'u1',
          email: 'Ann@Acme.test',
          email_verified: true,
          groups: ['eng'],
        };
        const first = await provisioner.provision({ connectionId: 'c1', profile: fromOidcClaims(claims) });
        expect(first).toMatchObject({ action: 'created', roles: ['developer'] });
        const second = await provisioner.provision({
          connectionId: 'c1',
          profile: fromOidcClaims({ ...claims, groups: [] }),
        });
        expect(second).toMatchObject({ action: 'updated', roles: [] });
        expect(second.user.id).toBe(first.user.id);
        const denied = await provisioner
          .provision({
            connectionId: 'c1',
            profile: fromOidcClaims({ ...claims, sub: 'u2', email: 'eve@evil.test' }),
          })
          .catch((e) => e);
        expect((denied as JitError).code).toBe('DOMAIN_NOT_ALLOWED');
        expect(await db.count('users')).toBe(1);
        expect(await db.count('audit', { tenantId: T })).toBe(3);
        const trail = await store.listAuditEvents({ tenantId: T, limit: 10 });
        expect(trail.map((e) => e.action)).toEqual(['created', 'updated', 'denied']);
        expect(trail[2]!.reason).toBe('DOMAIN_NOT_ALLOWED');
      });

      it('deactivates dormant users and audits each one', async () => {
        const provisioner = createProvisioner({ store, connections: [] });
        await write(async (tx) => {
          await tx.insertUser(newUser({ lastLoginAt: ms('2025-01-01T00:00:00Z') }));
          await tx.insertUser(
            newUser({
              lastLoginAt: ms('2025-01-01T00:00:00Z'),
              roles: [{ role: 'admin', source: 'manual' }],
            }),
          );
          await tx.insertUser(newUser({ lastLoginAt: new Date() }));
        });
        const dry = await provisioner.deactivateDormant({
          tenantId: T,
          notSeenSince: ms('2026-01-01T00:00:00Z'),
          excludeRoles: ['admin'],
        });
        expect(dry).toEqual({ dryRun: true, deactivated: 1, kept: 1 });
        expect(await db.count('audit')).toBe(0);
        const real = await provisioner.deactivateDormant({
          tenantId: T,
          notSeenSince: ms('2026-01-01T00:00:00Z'),
          excludeRoles: ['admin'],
          dryRun: false,
          batchSize: 1,
        });
        expect(real).toEqual({ dryRun: false, deactivated: 1, kept: 1 });
        expect(await store.countUsers({ tenantId: T })).toEqual({ active: 2, deactivated: 1 });
        expect(await db.count('audit')).toBe(1);
      });
    });
  });
}
export { runDirectoryConformance, type DirectoryConformanceOptions } from './directory.js';
export {
  runConfigurationStoreConformance,
  storedConnection,
  storedDomain,
  storedTenant,
  type ConfigurationConformanceOptions,
} from './configuration.js';
