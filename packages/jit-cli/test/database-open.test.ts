import { readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, type RunOptions } from '../src/index.js';
import { tempDir } from './helpers.js';

const requireHere = createRequire(import.meta.url);

async function jitIn(argv: string[], options: Partial<RunOptions> = {}) {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const err = new PassThrough().setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await run(argv, {
    stdout: out,
    stderr: err,
    env: {},
    interactive: false,
    progressBars: false,
    ...options,
  });
  return { code, stdout, stderr };
}

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

describe('a command that only reads', () => {
  const readOnly: Array<[string, string[]]> = [
    ['status', ['status']],
    ['users list', ['users', 'list']],
    ['users show', ['users', 'show', 'ann@acme.test', '--tenant', 'acme']],
    ['scim token list', ['scim', 'token', 'list', '--tenant', 'acme']],
    ['audit export', ['audit', 'export', '--since', '2026-01-01']],
    [
      'cleanup dormant --dry-run',
      ['cleanup', 'dormant', '--tenant', 'acme', '--inactive-days', '9', '--dry-run'],
    ],
    ['offboard --dry-run', ['offboard', '--csv', 'LEAVERS', '--dry-run']],
  ];

  it.each(readOnly)('%s on a missing SQLite path fails clearly and creates nothing', async (_name, args) => {
    const leavers = join(dir.path, 'leavers.csv');
    writeFileSync(leavers, 'email\nann@acme.test\n');
    const argv = args.map((a) => (a === 'LEAVERS' ? leavers : a));
    for (const url of [join(dir.path, 'jit.db'), `sqlite:${join(dir.path, 'nested', 'deeper', 'jit.db')}`]) {
      const result = await jitIn([...argv, '--database-url', url]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(`There is no SQLite database at ${url.replace(/^sqlite:/, '')}.`);
      expect(result.stderr).toContain('jit migrate creates the database');
    }
    expect(readdirSync(dir.path)).toEqual(['leavers.csv']);
  });

  it('reads an existing database, and migrate still creates one', async () => {
    const file = join(dir.path, 'new', 'jit.db');
    const created = await jitIn(['migrate', '--database-url', file]);
    expect(created.code, created.stderr).toBe(0);
    const status = await jitIn(['status', '--database-url', file, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ pendingMigrations: [], totals: { active: 0 } });
    expect(readdirSync(join(dir.path, 'new'))).toEqual(['jit.db']);
  });
});

describe('database drivers', () => {
  /** A `require` that records what is loaded and behaves as if `missing` were not installed. */
  function loader(missing: string[] = []) {
    const loaded: string[] = [];
    const load = (name: string) => {
      loaded.push(name);
      if (missing.includes(name)) {
        throw Object.assign(
          new Error(`Cannot find module '${name}'\nRequire stack:\n- ${import.meta.filename}`),
          {
            code: 'MODULE_NOT_FOUND',
          },
        );
      }
      return requireHere(name);
    };
    return { load, loaded };
  }

  it.each([
    ['postgres://jit:s3cret@127.0.0.1:1/app', 'pg', 'postgres://jit:***@127.0.0.1:1/app'],
    ['mysql://root:s3cret@127.0.0.1:1/app', 'mysql2', 'mysql://root:***@127.0.0.1:1/app'],
    ['sqlite:JIT_DB', 'better-sqlite3', 'sqlite:JIT_DB'],
  ])('%s without its driver names the package to install', async (url, driver, shown) => {
    const file = join(dir.path, 'jit.db');
    const { load, loaded } = loader([driver]);
    const result = await jitIn(['migrate', '--database-url', url.replace('JIT_DB', file)], {
      loadDriver: load,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `jit: ${shown.replace('JIT_DB', file)} needs the database driver "${driver}", which is not installed.`,
    );
    expect(result.stderr).toContain(
      `hint: Install it where @jit-sso/cli is installed: npm install ${driver}`,
    );
    expect(result.stderr).not.toContain('s3cret');
    expect(loaded).toEqual([driver]);
    expect(readdirSync(dir.path)).toEqual([]);
  });

  it('loads only the driver the URL names', async () => {
    const { load, loaded } = loader(['pg', 'mysql2']);
    const result = await jitIn(['migrate', '--database-url', join(dir.path, 'jit.db')], { loadDriver: load });
    expect(result.code, result.stderr).toBe(0);
    expect(loaded).toEqual(['better-sqlite3']);
  });

  it('reports a driver that is installed but broken as such, not as missing', async () => {
    const result = await jitIn(['migrate', '--database-url', 'postgres://127.0.0.1:1/app'], {
      loadDriver: () => {
        throw Object.assign(new Error("Cannot find module 'pg-protocol'"), { code: 'MODULE_NOT_FOUND' });
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Cannot load the database driver "pg": Cannot find module \'pg-protocol\'',
    );
    expect(result.stderr).not.toContain('npm install');
  });
});
