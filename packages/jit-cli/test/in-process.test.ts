import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryStore, type NewUser, type UserQuery } from '@jit-sso/core';
import { tempDir } from './helpers.js';
import { databaseKind, memoryBackend, redactUrl, run, type RunOptions } from '../src/index.js';
import { storeUrl } from '../src/typeorm-backend.js';

const DAY = 86_400_000;

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (d: string) => (text += d));
  return { stream, text: () => text };
}

async function seeded(n: number, admins: readonly number[] = []): Promise<MemoryStore> {
  const store = new MemoryStore();
  const old = new Date(Date.now() - 200 * DAY);
  await store.transaction(async (tx) => {
    for (let i = 0; i < n; i++) {
      const user: NewUser = {
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        tenantId: 'acme',
        email: `p${i}@acme.test`,
        status: 'active',
        source: 'jit',
        attributes: {},
        roles: admins.includes(i) ? [{ role: 'admin', source: 'manual' }] : [],
        externalId: null,
        createdAt: old,
        lastLoginAt: old,
      };
      await tx.insertUser(user);
    }
  });
  return store;
}

async function jitIn(store: MemoryStore, argv: string[], options: Partial<RunOptions> = {}) {
  const stdout = capture();
  const stderr = capture();
  const code = await run(argv, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { DATABASE_URL: 'memory' },
    interactive: false,
    progressBars: false,
    openBackend: async () => memoryBackend(store),
    ...options,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('on a terminal', () => {
  it('asks before deactivating, and a "no" changes nothing (exit 1)', async () => {
    const store = await seeded(3);
    const no = new PassThrough();
    no.end('n\n');
    const refused = await jitIn(store, ['cleanup', 'dormant', '--tenant', 'acme', '--inactive-days', '90'], {
      interactive: true,
      stdin: no,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Deactivate 3 active user(s) of tenant "acme" not seen since');
    for (let i = 0; i < 3; i++) {
      expect(refused.stderr).toContain(
        `  p${i}@acme.test (00000000-0000-4000-8000-${String(i).padStart(12, '0')}), last seen `,
      );
    }
    expect(refused.stderr).not.toContain('more');
    expect(refused.stderr).toContain('Proceed? [y/N]');
    expect(await store.countUsers({})).toEqual({ active: 3, deactivated: 0 });

    const yes = new PassThrough();
    yes.end('y\n');
    const done = await jitIn(store, ['cleanup', 'dormant', '--tenant', 'acme', '--inactive-days', '90'], {
      interactive: true,
      stdin: yes,
    });
    expect(done.code, done.stderr).toBe(0);
    expect(await store.countUsers({})).toEqual({ active: 0, deactivated: 3 });
  });

  it('lists at most ten of the people a dormant clean-up would deactivate, then "and N more", leaving out kept roles', async () => {
    const store = await seeded(14, [0]);
    const no = new PassThrough();
    no.end('n\n');
    const refused = await jitIn(
      store,
      ['cleanup', 'dormant', '--tenant', 'acme', '--inactive-days', '90', '--exclude-role', 'admin'],
      { interactive: true, stdin: no },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Deactivate 13 active user(s) of tenant "acme"');
    expect(refused.stderr).toContain('(1 kept by role admin):');
    const listed = refused.stderr.split('\n').filter((l) => /^ {2}p\d+@acme\.test /.test(l));
    expect(listed.map((l) => l.split(' ')[2])).toEqual([
      'p1@acme.test',
      'p2@acme.test',
      'p3@acme.test',
      'p4@acme.test',
      'p5@acme.test',
      'p6@acme.test',
      'p7@acme.test',
      'p8@acme.test',
      'p9@acme.test',
      'p10@acme.test',
    ]);
    expect(refused.stderr).toContain('\n  and 3 more\nProceed? [y/N]');
    expect(refused.stderr).not.toContain('p0@acme.test');
    expect(await store.countUsers({})).toEqual({ active: 14, deactivated: 0 });
  });

  it('names who would be deactivated when it refuses to run off a terminal without --yes', async () => {
    const store = await seeded(2);
    const dir = tempDir();
    try {
      const csv = join(dir.path, 'leavers.csv');
      writeFileSync(csv, 'email\np0@acme.test\np1@acme.test\n');
      const refused = await jitIn(store, ['offboard', '--csv', csv]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`Deactivate 2 user(s) listed in ${csv}:`);
      expect(refused.stderr).toContain('  p0@acme.test [acme] (00000000-0000-4000-8000-000000000000)');
      expect(refused.stderr).toContain('  p1@acme.test [acme] (00000000-0000-4000-8000-000000000001)');
      expect(refused.stderr).toContain('Refusing without confirmation');
      expect(await store.countUsers({})).toEqual({ active: 2, deactivated: 0 });
    } finally {
      dir.remove();
    }
  });

  it('draws a progress bar on a terminal and plain lines elsewhere', async () => {
    const bar = await jitIn(
      await seeded(40),
      ['cleanup', 'dormant', '--tenant', 'acme', '--inactive-days', '90', '--yes', '--batch-size', '7'],
      {
        progressBars: true,
      },
    );
    expect(bar.code, bar.stderr).toBe(0);
    expect(bar.stderr).toMatch(/deactivating \[=+\] 100% \| 40\/40/);
    const plain = await jitIn(await seeded(40), [
      'cleanup',
      'dormant',
      '--tenant',
      'acme',
      '--inactive-days',
      '90',
      '--yes',
    ]);
    expect(plain.stderr.split('\n').filter((l) => l.startsWith('deactivating: '))).toEqual([
      'deactivating: 4/40',
      'deactivating: 8/40',
      'deactivating: 12/40',
      'deactivating: 16/40',
      'deactivating: 20/40',
      'deactivating: 24/40',
      'deactivating: 28/40',
      'deactivating: 32/40',
      'deactivating: 36/40',
      'deactivating: 40/40',
    ]);
    expect(plain.stderr).not.toContain('\u001b[');
  });
});

describe('exit codes', () => {
  it('0 for --help and --version on every level, 2 for unknown commands and options', async () => {
    const store = new MemoryStore();
    for (const argv of [
      ['--help'],
      ['--version'],
      ['users', '--help'],
      ['users', 'list', '--help'],
      ['cleanup', 'dormant', '--help'],
      ['offboard', '--help'],
      ['scim', 'token', 'create', '--help'],
      ['audit', 'export', '--help'],
      ['connection', 'import', '--help'],
      ['migrate', '--help'],
      ['status', '--help'],
    ]) {
      const result = await jitIn(store, argv);
      expect(result.code, argv.join(' ')).toBe(0);
      expect(result.stdout, argv.join(' ')).toMatch(/Usage: jit|\d+\.\d+\.\d+/);
    }
    expect((await jitIn(store, ['users', 'frob'])).code).toBe(2);
    expect((await jitIn(store, ['users', 'list', '--frob'])).code).toBe(2);
    expect((await jitIn(store, ['scim'])).code).toBe(2);
    const noDb = await jitIn(store, ['users', 'list'], { env: {} });
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('DATABASE_URL');
  });
});

describe('database URLs', () => {
  it('tells SQLite paths from server URLs and hides passwords', () => {
    expect(databaseKind('./jit.db')).toBe('sqlite');
    expect(databaseKind('sqlite:/var/lib/jit.db')).toBe('sqlite');
    expect(databaseKind('postgresql://u:p@h/db')).toBe('postgres');
    expect(databaseKind('mariadb://root@h/db')).toBe('mysql');
    expect(() => databaseKind('mongodb://h/db')).toThrow(/Unsupported database URL scheme "mongodb:"/);
    expect(storeUrl('./jit.db')).toBe('sqlite:./jit.db');
    expect(storeUrl('file:///tmp/jit.db')).toBe('sqlite:/tmp/jit.db');
    expect(storeUrl('postgres://h/db')).toBe('postgres://h/db');
    expect(redactUrl('postgres://jit:s3cret@db.internal:5432/app')).toBe(
      'postgres://jit:***@db.internal:5432/app',
    );
  });

  it('reports an unreachable server as a failure without its password', async () => {
    const stderr = capture();
    const code = await run(['status', '--database-url', 'postgres://jit:s3cret@127.0.0.1:1/app'], {
      stdout: capture().stream,
      stderr: stderr.stream,
      env: {},
    });
    expect(code).toBe(1);
    expect(stderr.text()).toContain('Cannot open postgres://jit:***@127.0.0.1:1/app');
    expect(stderr.text()).not.toContain('s3cret');
  });
});

describe('a store that ignores a lookup filter', () => {
  /** Returns every user whatever the email or external id asked for. */
  class IgnoringStore extends MemoryStore {
    override async listUsers(query: UserQuery) {
      const { email: _email, externalId: _externalId, ...rest } = query;
      return super.listUsers(rest);
    }
  }

  it('makes offboarding fail instead of deactivating the wrong people', async () => {
    const store = new IgnoringStore();
    const source = await seeded(3);
    await store.transaction(async (tx) => {
      for (const user of await source.listUsers({ limit: 10 }))
        await tx.insertUser({ ...user, roles: [...user.roles] });
    });
    const dir = tempDir();
    try {
      const csv = join(dir.path, 'leavers.csv');
      writeFileSync(csv, 'email,external_id\np1@acme.test,\n,EMP-9\n');
      const result = await jitIn(store, ['offboard', '--csv', csv, '--yes']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('The store ignored the email filter');
      expect(await store.countUsers({})).toEqual({ active: 3, deactivated: 0 });
    } finally {
      dir.remove();
    }
  });
});

describe('offboarding with a tenant column', () => {
  it('narrows each row to its tenant and refuses rows whose tenant contradicts --tenant', async () => {
    const store = new MemoryStore();
    const at = new Date('2026-01-01T00:00:00Z');
    await store.transaction(async (tx) => {
      for (const [i, tenantId] of ['acme', 'globex'].entries()) {
        await tx.insertUser({
          id: `00000000-0000-4000-8000-00000000000${i}`,
          tenantId,
          email: 'sam@shared.test',
          status: 'active',
          source: 'scim',
          attributes: {},
          roles: [],
          externalId: null,
          createdAt: at,
          lastLoginAt: null,
        });
      }
    });
    const dir = tempDir();
    try {
      const csv = join(dir.path, 'leavers.csv');
      writeFileSync(csv, 'Tenant ID,E-Mail\nglobex,sam@shared.test\nacme,nobody@shared.test\n');
      const json = await jitIn(store, ['offboard', '--csv', csv, '--dry-run', '--json']);
      expect(JSON.parse(json.stdout).rows.map((r: { outcome: string }) => r.outcome)).toEqual([
        'would-deactivate',
        'unknown',
      ]);
      const mismatch = await jitIn(store, [
        'offboard',
        '--csv',
        csv,
        '--tenant',
        'acme',
        '--dry-run',
        '--json',
      ]);
      const rows = JSON.parse(mismatch.stdout).rows;
      expect(rows[0]).toMatchObject({
        outcome: 'invalid',
        message: 'the row names tenant "globex" but --tenant is "acme"',
      });
      expect(mismatch.code).toBe(1);

      const yes = new PassThrough();
      yes.end('yes\n');
      const done = await jitIn(store, ['offboard', '--csv', csv], { interactive: true, stdin: yes });
      expect(done.code).toBe(1);
      expect(done.stderr).toContain('Deactivate 1 user(s) listed in');
      expect((await store.findUserById('00000000-0000-4000-8000-000000000001'))!.status).toBe('deactivated');
      expect((await store.findUserById('00000000-0000-4000-8000-000000000000'))!.status).toBe('active');
    } finally {
      dir.remove();
    }
  });
});

describe('CSV output', () => {
  it('neutralises cells that a spreadsheet would run as formulas', async () => {
    const store = new MemoryStore();
    await store.transaction(async (tx) => {
      await tx.insertUser({
        id: '00000000-0000-4000-8000-000000000001',
        tenantId: 'acme',
        email: 'ann@acme.test',
        status: 'active',
        source: 'scim',
        attributes: {},
        roles: [],
        externalId: '=HYPERLINK("https://evil.test","x")',
        createdAt: new Date('2026-01-01T00:00:00Z'),
        lastLoginAt: null,
      });
    });
    const result = await jitIn(store, ['users', 'list', '--csv']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`"'=HYPERLINK(""https://evil.test"",""x"")"`);
    const json = await jitIn(store, ['users', 'list', '--json']);
    expect(JSON.parse(json.stdout)[0].externalId).toBe('=HYPERLINK("https://evil.test","x")');
  });
});
