import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every benchmark, run as its README says but at tiny sizes: a benchmark that no longer runs, or no
// longer prints its figures, fails here instead of at the next measurement.

const root = join(import.meta.dirname, '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bench(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const number = String.raw`\d+(?:\.\d+)?`;

describe('benchmark smoke runs', () => {
  it('core: the engine against the naive callbacks', async () => {
    const run = await bench('bench/core/run.ts', ['--time=50', '--rounds=1']);
    expect(run.code, run.stderr).toBe(0);
    for (const scenario of ['returning user', 'first login']) {
      expect(run.stdout).toMatch(
        new RegExp(`${scenario}: engine costs ${number}x the naive callback in time per login`),
      );
    }
  });

  it.each(['first', 'returning'])('core: the profiling loop (%s)', async (mode) => {
    const run = await bench('bench/core/profile.ts', [mode, '--count=200']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${mode}: \\d+ sign-ins/s, ${number} µs each`));
  });

  it('typeorm: the store against the raw drivers and a TypeORM callback, on SQLite and PostgreSQL', async () => {
    const run = await bench('bench/typeorm/run.ts', ['--smoke'], {
      JIT_BENCH_DATABASE_PREFIX: process.env['JIT_BENCH_DATABASE_PREFIX'] ?? 'jit_bench_smoke',
    });
    expect(run.code, run.stderr).toBe(0);
    for (const backend of [String.raw`SQLite \(file, WAL\)`, 'PostgreSQL']) {
      for (const scenario of ['existing', 'first']) {
        expect(run.stdout).toMatch(
          new RegExp(
            `\\| ${backend} \\| ${scenario} \\| 1 \\| store \\| \\d+ \\| ${number} \\| ${number} \\| ${number}x \\| ${number}x \\|`,
          ),
        );
      }
    }
    expect(run.stdout).toMatch(new RegExp(`\\| PostgreSQL \\| first \\| 32 \\| store \\| \\d+ \\|`));
  });

  it('outbox: a login and a SCIM create with and without the outbox row, and delivery throughput', async () => {
    const run = await bench('bench/outbox/run.ts', ['--smoke'], {
      JIT_BENCH_DATABASE_PREFIX: process.env['JIT_BENCH_DATABASE_PREFIX'] ?? 'jit_bench_smoke',
    });
    expect(run.code, run.stderr).toBe(0);
    for (const backend of [String.raw`SQLite \(file, WAL\)`, 'PostgreSQL']) {
      for (const operation of ['first login', 'SCIM create']) {
        expect(run.stdout).toMatch(
          new RegExp(
            `\\| ${backend} \\| ${operation} \\| \\d+ \\|( ${number} \\|){4} -?${number}% \\| -?${number}% \\|`,
          ),
        );
      }
      expect(run.stdout).toMatch(
        new RegExp(`\\| ${backend} \\| \\d+ events in ${number} s: \\d+ events/s \\|`),
      );
    }
  });

  it('express: the JIT step within a whole SAML and OIDC login, SAML validated in-process and in a pool', async () => {
    const run = await bench('bench/express/saml-login.ts', ['--logins=5', '--cache=memory']);
    expect(run.code, run.stderr).toBe(0);
    for (const mode of ['in-process', 'pool      ']) {
      for (const scenario of [
        String.raw`SAML first login \(created\)`,
        String.raw`SAML returning \(unchanged\)`,
        String.raw`OIDC first login \(created\)`,
        String.raw`OIDC returning \(unchanged\)`,
      ]) {
        expect(run.stdout).toMatch(
          new RegExp(
            `${mode} \\| ${scenario}\\s+\\|(\\s+${number}){3}\\s+\\|(\\s+${number}){3}\\s+\\|\\s+${number}%`,
          ),
        );
      }
    }
    expect(run.stdout).toMatch(new RegExp(`validatePostResponseAsync alone: mean ${number} ms`));
  });

  it('express: in-process SAML validation against a worker pool, with /healthz probed under load', async () => {
    const run = await bench('bench/express/saml-pool.ts', [
      ...['--rounds=1', '--logins=6', '--concurrency=3', '--threads=2', '--nice=0,10', '--admit=0,2'],
    ]);
    expect(run.code, run.stderr).toBe(0);
    // The main thread's own CPU and wait come from Linux's scheduler statistics (n/a elsewhere); with
    // six logins, taking the probes' estimated share out of the CPU can leave it below zero.
    const linux = process.platform === 'linux' ? `-?${number}` : 'n/a';
    const modes = ['in-process'];
    for (const nice of ['', ', niceIncrement 10']) {
      for (const admit of ['', ', 2 logins admitted']) modes.push(`pool, 2 threads${nice}${admit}`);
    }
    for (const mode of modes) {
      expect(run.stdout).toMatch(
        new RegExp(
          `\\| ${mode} \\| ${number} \\| ${number} \\| ${number}x \\| ${number} \\| ${number} \\| \\d+ \\| ${number} \\| ${number} \\| ${number} \\| ${linux} \\| ${linux} \\| ${number} \\| ${number} \\| ${number} \\|$`,
          'm',
        ),
      );
    }
  });

  it('adapters: Express, NestJS and Koa on the same login and request', async () => {
    const run = await bench('bench/adapters/compare.ts', ['--logins=5', '--requests=20', '--cache=memory'], {
      TSX_TSCONFIG_PATH: 'bench/adapters/tsconfig.json',
    });
    expect(run.code, run.stderr).toBe(0);
    for (const adapter of ['express', 'nest', 'koa']) {
      expect(run.stdout).toMatch(
        new RegExp(
          `^${adapter}\\s+\\|(\\s+${number}){3} \\| ${number}x\\s+\\|(\\s+${number}){3} \\| ${number}x$`,
          'm',
        ),
      );
    }
  });

  it('cli: dormant clean-up against the load-everything baseline', async () => {
    const run = await bench('bench/cli/run.ts', ['--sizes=200']);
    expect(run.code, run.stderr).toBe(0);
    // 160 of the 200 seeded users are dormant and hold no excluded role.
    expect(run.stdout).toMatch(
      new RegExp(`\\| 200 users, \`jit cleanup dormant --yes\` \\| 160 \\| ${number} \\| \\d+ \\|`),
    );
    expect(run.stdout).toMatch(
      new RegExp(`\\| ratio jit / baseline at 200 \\| \\| ${number}x time \\| ${number}x memory \\|`),
    );
  });

  it('cli: audit export against the all-in-memory baseline', async () => {
    const run = await bench('bench/cli/audit-export.ts', ['--events=500']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`\\| \`jit audit export\` \\| 500 \\| ${number} \\| \\d+ \\| [\\d,]+ \\|`),
    );
    expect(run.stdout).toMatch(
      new RegExp(`\\| baseline \\(one query, all in memory\\) \\| 500 \\| ${number} \\|`),
    );
  });

  it('configuration: logins on stored connections against static configuration', async () => {
    const run = await bench('bench/configuration/run.ts', ['--logins=50', '--rounds=1'], {
      JIT_BENCH_DATABASE_PREFIX: process.env['JIT_BENCH_DATABASE_PREFIX'] ?? 'jit_bench_smoke',
    });
    expect(run.code, run.stderr).toBe(0);
    for (const backend of [String.raw`SQLite \(file, WAL\)`, 'PostgreSQL']) {
      expect(run.stdout).toMatch(
        new RegExp(
          `${backend}: returning-user login p50 ${number} ms static, ${number} ms stored .* stored/static at the median: ${number}x`,
        ),
      );
    }
  });

  it('scim: jit-scim and the floor (the peers are installed apart, with npm install --prefix bench/scim)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-bench-scim-'));
    try {
      const run = await bench('bench/scim/run.ts', [
        ...['--users', '1100', '--ops', '20', '--pages', '5'],
        ...['--only', 'jit-scim,floor', '--dir', dir],
      ]);
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as Record<string, Record<string, unknown>>;
      for (const system of ['jit-scim', 'floor']) {
        expect(report[system], system).toMatchObject({
          users: '1100',
          settings: 'journal_mode=wal, synchronous=NORMAL',
        });
        for (const operation of ['create', 'lookup@1k', 'lookup@N', 'list', 'patch']) {
          const figures = report[system]![operation] as { ops: number; perSecond: number; p50: number };
          expect(figures.ops, `${system} ${operation}`).toBeGreaterThan(0);
          expect(figures.perSecond, `${system} ${operation}`).toBeGreaterThan(0);
          expect(figures.p50, `${system} ${operation}`).toBeGreaterThan(0);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('scim on PostgreSQL: jit-scim, sequential and 16 at once (Jackson is installed apart)', async () => {
    const run = await bench(
      'bench/scim/run.ts',
      [...['--db', 'postgres', '--users', '1100', '--ops', '20', '--pages', '5'], ...['--only', 'jit-scim']],
      { JIT_BENCH_DATABASE_PREFIX: `${process.env['JIT_BENCH_DATABASE_PREFIX'] ?? 'jit_bench_smoke'}` },
    );
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, Record<string, unknown>>;
    expect(report['jit-scim']).toMatchObject({ users: '1100', settings: 'synchronous_commit=on, pool 10' });
    for (const operation of ['create', 'lookup@1k', 'lookup@N', 'list', 'patch', 'create x16', 'patch x16']) {
      const figures = report['jit-scim']![operation] as { ops: number; perSecond: number; p50: number };
      expect(figures.ops, operation).toBe(operation === 'list' ? 5 : operation === 'create' ? 800 : 20);
      expect(figures.perSecond, operation).toBeGreaterThan(0);
    }
  });
});
