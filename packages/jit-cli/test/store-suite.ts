import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import type { AuditEvent, NewUser, RoleGrant, UserRecord } from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormDirectoryStore } from '@jit-sso/typeorm';
import { authenticate, hashToken } from '@jit-sso/scim';
import { isDirectoryStore } from '@jit-sso/core';
import { jit, tempDir } from './helpers.js';

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

export interface Database {
  /** A fresh, empty database (no tables) and its URL. */
  fresh(): Promise<string>;
  dispose(): Promise<void>;
}

let counter = 0;
/** UUIDs in insertion order, so that listings have a predictable order. */
const uid = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;

function newUser(fields: Partial<NewUser> & { email: string }): NewUser {
  const createdAt = fields.createdAt ?? ago(400);
  return {
    id: uid(),
    tenantId: 'acme',
    status: 'active',
    source: 'jit',
    attributes: {},
    roles: [],
    externalId: null,
    lastLoginAt: null,
    ...fields,
    createdAt,
  };
}

const role = (name: string): RoleGrant => ({ role: name, source: 'jit' });

/** The `jit` commands that use a database, run as processes against one dialect. */
export function describeStoreCommands(dialect: string, database: () => Database): void {
  describe(`jit against ${dialect}`, () => {
    let db: Database;
    let url: string;
    let dataSource: DataSource | null = null;
    let store: TypeormDirectoryStore;
    let dir: ReturnType<typeof tempDir>;
    const env = () => ({ DATABASE_URL: url });

    beforeAll(() => {
      db = database();
      dir = tempDir();
    });
    afterAll(async () => {
      await db.dispose();
      dir.remove();
    });
    beforeEach(async () => {
      url = await db.fresh();
    });
    afterEach(async () => {
      await dataSource?.destroy();
      dataSource = null;
    });

    async function open(): Promise<TypeormDirectoryStore> {
      dataSource = await createJitDataSource(
        url.startsWith('sqlite:') || url.includes('://') ? url : `sqlite:${url}`,
      );
      await migrate(dataSource);
      store = new TypeormDirectoryStore(dataSource);
      return store;
    }
    async function seed(users: NewUser[]): Promise<NewUser[]> {
      await store.transaction(async (tx) => {
        for (const u of users) await tx.insertUser(u);
      });
      return users;
    }
    async function audit(): Promise<AuditEvent[]> {
      return store.listAuditEvents({ limit: 10_000 });
    }
    async function statuses(): Promise<Record<string, string>> {
      const users = await store.listUsers({ limit: 10_000 });
      return Object.fromEntries(users.map((u) => [`${u.tenantId}/${u.email}`, u.status]));
    }

    it('migrates a fresh database, reports status, and refuses other commands until migrated', async () => {
      const before = await jit(['status'], { env: env() });
      expect(before.code, before.stderr).toBe(0);
      expect(before.stdout).toContain('(none: run jit migrate)');
      const refused = await jit(['users', 'list'], { env: env() });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('pending migration');
      expect(refused.stderr).toContain('jit migrate');

      const first = await jit(['migrate', '--database-url', url]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^applied JitInit/m);
      const applied = [...first.stdout.matchAll(/^applied (\S+)$/gm)].map((m) => m[1]);
      const second = await jit(['migrate'], { env: env() });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain('schema is up to date');

      await open();
      await seed([
        newUser({ email: 'a@acme.com' }),
        newUser({ email: 'b@acme.com', status: 'deactivated' }),
        newUser({ email: 'c@globex.com', tenantId: 'globex' }),
      ]);
      const status = await jit(['status', '--json'], { env: env() });
      expect(status.code, status.stderr).toBe(0);
      const report = JSON.parse(status.stdout);
      expect(report.schemaVersion).toBe(applied[applied.length - 1]);
      expect(report.pendingMigrations).toEqual([]);
      expect(report.tenants).toEqual([
        { tenantId: 'acme', active: 1, deactivated: 1 },
        { tenantId: 'globex', active: 1, deactivated: 0 },
      ]);
      expect(report.totals).toEqual({ active: 2, deactivated: 1 });
      expect(JSON.stringify(report)).not.toContain('password');
      const table = await jit(['status'], { env: env() });
      expect(table.stdout).toMatch(/acme\s+1\s+1/);
    });

    describe('with a migrated database', () => {
      beforeEach(async () => {
        await open();
      });

      it('lists users with filters as a table, JSON or CSV', async () => {
        await seed([
          newUser({ email: 'old@acme.com', lastLoginAt: ago(200), roles: [role('admin'), role('editor')] }),
          newUser({ email: 'new@acme.com', lastLoginAt: ago(1), source: 'scim', externalId: 'E-2' }),
          newUser({
            email: 'gone@acme.com',
            status: 'deactivated',
            attributes: { displayName: 'Gone, "really"' },
          }),
          newUser({ email: 'x@globex.com', tenantId: 'globex' }),
        ]);
        const table = await jit(['users', 'list', '--tenant', 'acme'], { env: env() });
        expect(table.code, table.stderr).toBe(0);
        const lines = table.stdout.trimEnd().split('\n');
        expect(lines[0]).toMatch(/^id\s+tenant\s+email\s+status\s+source\s+roles/);
        expect(lines.slice(1).map((l) => l.split(/\s+/)[2])).toEqual([
          'old@acme.com',
          'new@acme.com',
          'gone@acme.com',
        ]);
        expect(table.stderr).toContain('3 user(s)');

        const json = await jit(['users', 'list', '--json', '--status', 'active', '--tenant', 'acme'], {
          env: env(),
        });
        expect(json.code, json.stderr).toBe(0);
        const users = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
        expect(users.map((u) => u['email'])).toEqual(['old@acme.com', 'new@acme.com']);
        expect(users[0]).toMatchObject({
          tenantId: 'acme',
          status: 'active',
          source: 'jit',
          lastLoginAt: expect.any(String),
        });

        const scim = await jit(['users', 'list', '--json', '--source', 'scim'], { env: env() });
        expect(JSON.parse(scim.stdout).map((u: UserRecord) => u.externalId)).toEqual(['E-2']);
        const before = await jit(
          ['users', 'list', '--json', '--last-login-before', ago(30).toISOString().slice(0, 10)],
          {
            env: env(),
          },
        );
        expect(JSON.parse(before.stdout).map((u: UserRecord) => u.email)).toEqual([
          'old@acme.com',
          'gone@acme.com',
          'x@globex.com',
        ]);
        const inactive = await jit(['users', 'list', '--json', '--inactive-days', '30', '--limit', '2'], {
          env: env(),
        });
        expect(JSON.parse(inactive.stdout)).toHaveLength(2);

        const csv = await jit(['users', 'list', '--csv'], { env: env() });
        expect(csv.code, csv.stderr).toBe(0);
        const rows = parse(csv.stdout, { columns: true }) as Array<Record<string, string>>;
        expect(rows.map((r) => r['email'])).toEqual([
          'old@acme.com',
          'new@acme.com',
          'gone@acme.com',
          'x@globex.com',
        ]);
        expect(rows[0]!['roles']).toBe('admin editor');

        const empty = await jit(['users', 'list', '--json', '--tenant', 'nobody'], { env: env() });
        expect(JSON.parse(empty.stdout)).toEqual([]);
        const both = await jit(['users', 'list', '--json', '--csv'], { env: env() });
        expect(both.code).toBe(2);
        const badStatus = await jit(['users', 'list', '--status', 'zombie'], { env: env() });
        expect(badStatus.code).toBe(2);
        const badDate = await jit(['users', 'list', '--last-login-before', 'yesterday'], { env: env() });
        expect(badDate.code).toBe(2);
        expect(badDate.stderr).toContain('ISO date');
      });

      it('shows a user by email or id, and refuses an email that exists in several tenants without --tenant', async () => {
        const [ann] = await seed([
          newUser({
            email: 'ann@acme.com',
            externalId: 'E-1',
            roles: [role('admin')],
            attributes: { firstName: 'Ann' },
          }),
          newUser({ email: 'ann@acme.com', tenantId: 'globex' }),
        ]);
        const byEmail = await jit(['users', 'show', 'Ann@ACME.com', '--tenant', 'acme', '--json'], {
          env: env(),
        });
        expect(byEmail.code, byEmail.stderr).toBe(0);
        expect(JSON.parse(byEmail.stdout)).toMatchObject({
          id: ann!.id,
          tenantId: 'acme',
          attributes: { firstName: 'Ann' },
          identities: [],
          recentEvents: [],
        });
        const byId = await jit(['users', 'show', ann!.id], { env: env() });
        expect(byId.code, byId.stderr).toBe(0);
        expect(byId.stdout).toMatch(/email\s+ann@acme.com/);
        expect(byId.stdout).toContain('admin (jit)');
        const ambiguous = await jit(['users', 'show', 'ann@acme.com'], { env: env() });
        expect(ambiguous.code).toBe(1);
        expect(ambiguous.stderr).toContain('is a user in 2 tenants');
        const missing = await jit(['users', 'show', 'nobody@acme.com', '--tenant', 'acme'], { env: env() });
        expect(missing.code).toBe(1);
        expect(missing.stderr).toContain('No user with email nobody@acme.com');
      });

      it('deactivates only after confirmation (--yes off a terminal), audited, and reactivates', async () => {
        const [ann] = await seed([newUser({ email: 'ann@acme.com' }), newUser({ email: 'bob@acme.com' })]);
        const refused = await jit(['users', 'deactivate', 'ann@acme.com', '--tenant', 'acme'], {
          env: env(),
        });
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain('--yes');
        expect(await statuses()).toEqual({ 'acme/ann@acme.com': 'active', 'acme/bob@acme.com': 'active' });
        expect(await audit()).toEqual([]);

        const done = await jit(
          [
            'users',
            'deactivate',
            'ann@acme.com',
            '--tenant',
            'acme',
            '--yes',
            '--reason',
            'left the company',
          ],
          { env: env() },
        );
        expect(done.code, done.stderr).toBe(0);
        expect(done.stdout).toContain('deactivated ann@acme.com');
        expect(await statuses()).toEqual({
          'acme/ann@acme.com': 'deactivated',
          'acme/bob@acme.com': 'active',
        });
        const [event] = await audit();
        expect(event).toMatchObject({
          action: 'deactivated',
          actor: 'admin',
          userId: ann!.id,
          reason: 'left the company',
        });

        const again = await jit(['users', 'deactivate', ann!.id, '--yes'], { env: env() });
        expect(again.code).toBe(0);
        expect(again.stderr).toContain('already deactivated');
        expect(await audit()).toHaveLength(1);

        const back = await jit(['users', 'reactivate', ann!.id], { env: env() });
        expect(back.code, back.stderr).toBe(0);
        expect((await store.findUserById(ann!.id))!.status).toBe('active');
        expect((await audit()).map((e) => e.action)).toEqual(['deactivated', 'reactivated']);

        const unknown = await jit(['users', 'deactivate', 'nobody@acme.com', '--tenant', 'acme', '--yes'], {
          env: env(),
        });
        expect(unknown.code).toBe(1);
        const noArgs = await jit(['users', 'deactivate'], { env: env() });
        expect(noArgs.code).toBe(2);
      });

      it('reactivation respects the seat limit of the tenant in --config', async () => {
        const [ann] = await seed([
          newUser({ email: 'ann@acme.com', status: 'deactivated' }),
          newUser({ email: 'bob@acme.com' }),
        ]);
        const config = join(dir.path, `seats-${counter}.json`);
        writeFileSync(config, JSON.stringify({ tenants: [{ id: 'acme', seatLimit: 1 }], connections: [] }));
        const full = await jit(['users', 'reactivate', ann!.id, '--config', config], { env: env() });
        expect(full.code).toBe(1);
        expect(full.stderr).toContain('SEAT_LIMIT_REACHED');
        expect((await store.findUserById(ann!.id))!.status).toBe('deactivated');
      });

      it('cleans up dormant users: dry run changes nothing, the real run deactivates and audits, excluded roles are kept', async () => {
        await seed([
          newUser({ email: 'old@acme.com', lastLoginAt: ago(200) }),
          newUser({ email: 'recent@acme.com', lastLoginAt: ago(10) }),
          newUser({ email: 'never-old@acme.com', createdAt: ago(120) }),
          newUser({ email: 'never-new@acme.com', createdAt: ago(5) }),
          newUser({ email: 'admin@acme.com', lastLoginAt: ago(300), roles: [role('admin')] }),
          newUser({ email: 'gone@acme.com', lastLoginAt: ago(300), status: 'deactivated' }),
          newUser({ email: 'old@globex.com', tenantId: 'globex', lastLoginAt: ago(300) }),
        ]);
        const before = await statuses();
        const args = [
          'cleanup',
          'dormant',
          '--tenant',
          'acme',
          '--inactive-days',
          '90',
          '--exclude-role',
          'admin',
        ];

        const dry = await jit([...args, '--dry-run', '--list'], { env: env() });
        expect(dry.code, dry.stderr).toBe(0);
        expect(
          dry.stdout
            .trim()
            .split('\n')
            .map((l) => l.split('\t')[1]),
        ).toEqual(['old@acme.com', 'never-old@acme.com']);
        expect(dry.stdout).toContain('(never signed in)');
        expect(dry.stderr).toContain('[dry run]');
        expect(dry.stderr).toContain('would deactivate 2, kept 1 by role');
        expect(await statuses()).toEqual(before);
        expect(await audit()).toEqual([]);

        const unconfirmed = await jit(args, { env: env() });
        expect(unconfirmed.code).toBe(2);
        expect(await statuses()).toEqual(before);

        const run = await jit([...args, '--yes', '--json'], { env: env() });
        expect(run.code, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({
          tenantId: 'acme',
          dryRun: false,
          dormant: 3,
          deactivated: 2,
          keptByRole: 1,
        });
        expect(await statuses()).toEqual({
          ...before,
          'acme/old@acme.com': 'deactivated',
          'acme/never-old@acme.com': 'deactivated',
        });
        const events = await audit();
        expect(events).toHaveLength(2);
        expect(
          events.every((e) => e.action === 'deactivated' && e.reason === 'dormant' && e.tenantId === 'acme'),
        ).toBe(true);
        // Plain progress lines off a terminal.
        expect(run.stderr).toMatch(/deactivating: 2\/3/);

        const nothing = await jit([...args, '--yes'], { env: env() });
        expect(nothing.code).toBe(0);
        expect(nothing.stderr).toContain('deactivated 0');
        const missing = await jit(['cleanup', 'dormant', '--tenant', 'acme'], { env: env() });
        expect(missing.code).toBe(2);
        const zero = await jit(['cleanup', 'dormant', '--tenant', 'acme', '--inactive-days', '0'], {
          env: env(),
        });
        expect(zero.code).toBe(2);
      });

      it('offboards from a CSV with a BOM, blank lines, quoted commas, unknown, duplicate, ambiguous and invalid rows', async () => {
        await seed([
          newUser({ email: 'ann@acme.com' }),
          newUser({ email: 'bob@acme.com', externalId: 'EMP-2' }),
          newUser({ email: 'cy@acme.com', externalId: 'EMP-3' }),
          newUser({ email: 'dee@acme.com', status: 'deactivated' }),
          newUser({ email: 'eve@acme.com' }),
          newUser({ email: 'eve@acme.com', tenantId: 'globex' }),
          newUser({ email: 'stays@acme.com' }),
        ]);
        const csv = join(dir.path, `leavers-${counter}.csv`);
        writeFileSync(
          csv,
          '\uFEFFEmail,External ID,Name\r\n' +
            'ANN@acme.com,,"Smith, Ann"\r\n' +
            '\r\n' +
            ',EMP-2,"Jones, ""Bob"""\r\n' +
            '   ,   ,\r\n' +
            'nobody@acme.com,,Nobody\r\n' +
            'ann@acme.com,,"Smith, Ann (again)"\r\n' +
            'eve@acme.com,,Eve\r\n' +
            'not-an-email,,Broken\r\n' +
            'dee@acme.com,,Dee\r\n' +
            'cy@acme.com,EMP-2,Conflict\r\n' +
            '\r\n',
        );
        const before = await statuses();
        const dry = await jit(['offboard', '--csv', csv, '--dry-run', '--json'], { env: env() });
        expect(dry.code).toBe(1);
        expect(dry.stderr).toContain('could not be matched to exactly one user');
        const report = JSON.parse(dry.stdout) as {
          rows: Array<{ line: number; outcome: string; message: string }>;
        };
        expect(report.rows.map((r) => [r.line, r.outcome])).toEqual([
          [2, 'would-deactivate'],
          [4, 'would-deactivate'],
          [6, 'unknown'],
          [7, 'duplicate'],
          [8, 'ambiguous'],
          [9, 'invalid'],
          [10, 'already-deactivated'],
          [11, 'ambiguous'],
        ]);
        expect(report.rows[4]!.message).toContain('globex');
        expect(await statuses()).toEqual(before);
        expect(await audit()).toEqual([]);

        const unconfirmed = await jit(['offboard', '--csv', csv], { env: env() });
        expect(unconfirmed.code).toBe(2);
        expect(await statuses()).toEqual(before);

        const run = await jit(['offboard', '--csv', csv, '--yes'], { env: env() });
        expect(run.code).toBe(1);
        expect(run.stdout).toMatch(/2\s+ann@acme.com\s+deactivated/i);
        expect(await statuses()).toEqual({
          ...before,
          'acme/ann@acme.com': 'deactivated',
          'acme/bob@acme.com': 'deactivated',
        });
        const events = await audit();
        expect(events.map((e) => [e.action, e.reason, e.actor])).toEqual([
          ['deactivated', 'offboarding', 'admin'],
          ['deactivated', 'offboarding', 'admin'],
        ]);

        // Narrowed to one tenant, eve is one person; a clean file exits 0.
        const clean = join(dir.path, `clean-${counter}.csv`);
        writeFileSync(clean, 'email\neve@acme.com\n');
        const scoped = await jit(['offboard', '--csv', clean, '--tenant', 'acme', '--yes'], { env: env() });
        expect(scoped.code, scoped.stderr).toBe(0);
        expect((await statuses())['acme/eve@acme.com']).toBe('deactivated');
        expect((await statuses())['globex/eve@acme.com']).toBe('active');
        expect(await store.countUsers({})).toEqual({ active: 3, deactivated: 4 });
      });

      it('refuses a CSV without an email or external id column, or with a broken quote, before changing anything', async () => {
        await seed([newUser({ email: 'ann@acme.com' })]);
        const noColumn = join(dir.path, `nocol-${counter}.csv`);
        writeFileSync(noColumn, 'name,department\nAnn,Sales\n');
        const a = await jit(['offboard', '--csv', noColumn, '--yes'], { env: env() });
        expect(a.code).toBe(1);
        expect(a.stderr).toContain('needs an "email" or "external_id" column');
        const broken = join(dir.path, `broken-${counter}.csv`);
        writeFileSync(broken, 'email,name\nann@acme.com,Ann\n"bob@acme.com,Bob\n');
        const b = await jit(['offboard', '--csv', broken, '--yes'], { env: env() });
        expect(b.code).toBe(1);
        expect(b.stderr).toMatch(/Quote Not Closed|quote/i);
        expect(await statuses()).toEqual({ 'acme/ann@acme.com': 'active' });
        const missing = await jit(['offboard', '--csv', join(dir.path, 'absent.csv'), '--yes'], {
          env: env(),
        });
        expect(missing.code).toBe(1);
        expect(missing.stderr).toContain('ENOENT');
      });

      it('exports the audit trail as JSON Lines or CSV, from a date, in time order', async () => {
        await seed([
          newUser({ email: 'a@acme.com' }),
          newUser({ email: 'b@acme.com' }),
          newUser({ email: 'c@globex.com', tenantId: 'globex' }),
        ]);
        const off = await jit(
          ['offboard', '--csv', writeCsv('email\na@acme.com\nb@acme.com\nc@globex.com\n'), '--yes'],
          { env: env() },
        );
        expect(off.code, off.stderr).toBe(0);
        const since = new Date(Date.now() - 3_600_000).toISOString();
        const jsonl = await jit(['audit', 'export', '--since', since, '--page-size', '2'], { env: env() });
        expect(jsonl.code, jsonl.stderr).toBe(0);
        const events = jsonl.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        expect(events).toHaveLength(3);
        expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort());
        expect(events[0]).toMatchObject({
          action: 'deactivated',
          actor: 'admin',
          reason: 'offboarding',
          at: expect.stringMatching(/Z$/),
        });
        expect(jsonl.stderr).toContain('exported 3 event(s)');

        const csvOut = await jit(
          ['audit', 'export', '--since', since, '--format', 'csv', '--tenant', 'acme'],
          { env: env() },
        );
        const rows = parse(csvOut.stdout, { columns: true }) as Array<Record<string, string>>;
        expect(rows.map((r) => r['tenant'])).toEqual(['acme', 'acme']);
        expect(JSON.parse(rows[0]!['changes']!)).toEqual([
          { field: 'status', from: 'active', to: 'deactivated' },
        ]);

        const future = await jit(['audit', 'export', '--since', new Date(Date.now() + DAY).toISOString()], {
          env: env(),
        });
        expect(future.stdout).toBe('');
        const file = join(dir.path, `audit-${counter}.jsonl`);
        const toFile = await jit(['audit', 'export', '--since', since, '--output', file], { env: env() });
        expect(toFile.code).toBe(0);
        const noSince = await jit(['audit', 'export'], { env: env() });
        expect(noSince.code).toBe(2);
      });

      it('issues a SCIM token once, stores only its hash, lists and revokes it (audited), per tenant', async () => {
        expect(isDirectoryStore(store)).toBe(true);
        const created = await jit(
          ['scim', 'token', 'create', '--tenant', 'acme', '--label', 'Okta production'],
          { env: env() },
        );
        expect(created.code, created.stderr).toBe(0);
        const token = created.stdout.trim();
        expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
        expect(created.stderr).toContain('cannot be shown again');
        const directory = await authenticate(store, `Bearer ${token}`);
        expect(directory.tenantId).toBe('acme');
        const [record] = await store.listTokens(directory.id);
        expect(record!.hash).toBe(hashToken(token));
        expect(JSON.stringify(record)).not.toContain(token);

        const second = await jit(['scim', 'token', 'create', '--tenant', 'acme', '--json'], { env: env() });
        expect(second.code, second.stderr).toBe(0);
        const rotated = JSON.parse(second.stdout);
        expect(rotated).toMatchObject({ directoryId: directory.id, token: expect.stringMatching(/^scim_/) });
        expect(await store.listDirectories('acme')).toHaveLength(1);
        const other = await jit(['scim', 'token', 'create', '--tenant', 'globex'], { env: env() });
        expect(other.code, other.stderr).toBe(0);

        const list = await jit(['scim', 'token', 'list', '--tenant', 'acme'], { env: env() });
        expect(list.code, list.stderr).toBe(0);
        expect(list.stdout).toContain(record!.id);
        expect(list.stdout).toContain('Okta production');
        expect(list.stdout).not.toContain(token);
        expect(list.stdout).not.toContain(record!.hash);
        const listed = JSON.parse(
          (await jit(['scim', 'token', 'list', '--tenant', 'acme', '--json'], { env: env() })).stdout,
        );
        expect(listed.map((t: { id: string }) => t.id).sort()).toEqual([record!.id, rotated.id].sort());

        // A tenant cannot revoke another tenant's token.
        const foreign = await jit(['scim', 'token', 'revoke', record!.id, '--tenant', 'globex', '--yes'], {
          env: env(),
        });
        expect(foreign.code).toBe(1);
        expect(foreign.stderr).toContain('has no SCIM token');
        const unconfirmed = await jit(['scim', 'token', 'revoke', record!.id, '--tenant', 'acme'], {
          env: env(),
        });
        expect(unconfirmed.code).toBe(2);
        await expect(authenticate(store, `Bearer ${token}`)).resolves.toMatchObject({ id: directory.id });

        const revoked = await jit(['scim', 'token', 'revoke', record!.id, '--tenant', 'acme', '--yes'], {
          env: env(),
        });
        expect(revoked.code, revoked.stderr).toBe(0);
        await expect(authenticate(store, `Bearer ${token}`)).rejects.toMatchObject({ status: 401 });
        await expect(authenticate(store, `Bearer ${rotated.token}`)).resolves.toMatchObject({
          id: directory.id,
        });
        const events = await audit();
        expect(events.filter((e) => e.reason === 'scim-token').map((e) => e.action)).toEqual([
          'created',
          'created',
          'created',
          'deleted',
        ]);
        const after = await jit(['scim', 'token', 'list', '--tenant', 'acme'], { env: env() });
        expect(after.stdout).toMatch(new RegExp(`${record!.id}.*revoked`));
      });

      function writeCsv(text: string): string {
        const path = join(dir.path, `rows-${++counter}.csv`);
        writeFileSync(path, text);
        return path;
      }
    });
  });
}
