import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

// The large-group benchmark (bench/scim/groups.ts) at tiny sizes, so that it keeps running as the
// code under it changes; it checks its own answers (totals, group sizes) and fails on any error.
describe('the large-group benchmark', () => {
  it('runs its --smoke sizes on PostgreSQL and reports a median of each operation', () => {
    const run = spawnSync(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        'bench/scim/groups.ts',
        '--smoke',
        '--database',
        'jit_scim_groups_bench_smoke',
      ],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const output = JSON.parse(run.stdout) as {
      results: Array<{ members: number } & Record<string, { p50: number }>>;
    };
    expect(output.results.map((r) => r.members)).toEqual([3, 40]);
    for (const result of output.results) {
      for (const operation of ['add', 'remove', 'rename', 'groups.value eq']) {
        expect(result[operation]!.p50).toBeGreaterThan(0);
      }
    }
  });
});
