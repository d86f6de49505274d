import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createJitDataSource, runMigrateCommand } from '../src/index.js';
import { freshPostgres } from './databases.js';

const dir = mkdtempSync(join(tmpdir(), 'jit-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: { log: (l: string) => lines.push(l), error: (l: string) => errors.push(l) } };
}

describe('jit-typeorm-migrate', () => {
  it('lists pending migrations, applies them once, then reports the database up to date', async () => {
    const url = `sqlite:${join(dir, 'app.db')}`;
    const listed = capture();
    expect(await runMigrateCommand([url, '--list'], listed.out)).toBe(0);
    expect(listed.lines[0]).toBe('pending  JitInitSqlite1795439311928');
    expect(listed.lines.every((l) => l.startsWith('pending  '))).toBe(true);

    const first = capture();
    expect(await runMigrateCommand([url], first.out)).toBe(0);
    expect(first.lines.join('\n').split('\n')).toEqual(
      listed.lines.map((l) => l.replace('pending', 'applied')),
    );
    const second = capture();
    expect(await runMigrateCommand([], second.out, { JIT_DATABASE_URL: url })).toBe(0);
    expect(second.lines).toEqual([`${url} is up to date`]);

    const dataSource = await createJitDataSource(url);
    const tables = await dataSource.query(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'jit_%' ORDER BY name`,
    );
    await dataSource.destroy();
    expect(tables.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining([
        'jit_audit_events',
        'jit_identities',
        'jit_migrations',
        'jit_tenants',
        'jit_users',
      ]),
    );
  });

  it('refuses a missing or unsupported URL with the usage and exit code 2 or 1, without echoing a password', async () => {
    const none = capture();
    expect(await runMigrateCommand([], none.out, {})).toBe(2);
    expect(none.errors[0]).toMatch(/^usage: jit-typeorm-migrate/);
    const odd = capture();
    expect(await runMigrateCommand(['oracle://scott:tiger@db/x'], odd.out, {})).toBe(1);
    expect(odd.errors[0]).toMatch(/Unsupported database URL/);
    expect(odd.errors[0]).not.toContain('tiger');
  });

  it('migrates PostgreSQL through the npm script', async () => {
    const url = await freshPostgres('jit_typeorm_cli');
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'migrate', '--', url], {
      cwd: join(import.meta.dirname, '..'),
    });
    expect(stdout.split('\n')[0]).toBe('applied  JitInitPostgres1795439311928');
  });
});
