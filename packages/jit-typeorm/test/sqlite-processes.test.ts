import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { createJitDataSource, migrate } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'jit-sqlite-processes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('keeps one account per person when several processes share a SQLite file', async () => {
  const file = join(dir, 'shared.db');
  const setup = await createJitDataSource(`sqlite:${file}`);
  await migrate(setup);
  await setup.destroy();

  const run = promisify(execFile);
  const script = join(import.meta.dirname, 'fixtures', 'sqlite-process.ts');
  const processes = ['p1', 'p2', 'p3'].map((name) =>
    run(process.execPath, ['--conditions=source', '--import', 'tsx', script, file, name, '60'], {
      cwd: join(import.meta.dirname, '..'),
    }),
  );
  for (const { stdout } of await Promise.all(processes)) expect(JSON.parse(stdout)).toEqual({ failures: [] });

  const check = await createJitDataSource(`sqlite:${file}`);
  try {
    const count = async (table: string) => (await check.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n;
    // Each process: 30 people of its own, and 5 people that all three log in (shared-1, -3, -5, -7, -9).
    expect(await count('jit_users')).toBe(3 * 30 + 5);
    expect(await count('jit_identities')).toBe(3 * 30 + 5);
    expect(await count(`jit_audit_events WHERE action = 'created'`)).toBe(3 * 30 + 5);
    expect(await count('jit_audit_events')).toBe(3 * 60);
  } finally {
    await check.destroy();
  }
}, 120_000);
