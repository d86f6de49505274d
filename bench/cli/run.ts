/**
 * Dormant clean-up at scale: `jit cleanup dormant` as a process on a SQLite file of N users, its
 * wall time and peak memory (max RSS, from /usr/bin/time), against the hand-written baseline
 * (naive.ts: load every active user, deactivate one transaction at a time) on a copy of the same file.
 *
 *   node --conditions=source --import tsx bench/cli/run.ts [--sizes=20000,200000] [--heap-cap=64]
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createJitDataSource, JitUserEntity, migrate, TypeormStore, type JitUser } from '@jit-sso/typeorm';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const BIN = join(root, 'packages', 'jit-cli', 'src', 'bin.ts');
const NAIVE = join(here, 'naive.ts');
const TSX = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const sizes = (process.argv.find((a) => a.startsWith('--sizes='))?.slice(8) ?? '20000,200000')
  .split(',')
  .map(Number);
const DAY = 86_400_000;
const HEAP_CAP_MB = Number(process.argv.find((a) => a.startsWith('--heap-cap='))?.slice(11) ?? 64);

/** 80% dormant (60% signed in 200 days ago, 20% never signed in, created 200 days ago), 5% dormant admins, 15% recent. */
async function seed(file: string, n: number): Promise<{ expected: number }> {
  const dataSource = await createJitDataSource(`sqlite:${file}`);
  await migrate(dataSource);
  const old = new Date(Date.now() - 200 * DAY);
  const recent = new Date(Date.now() - 5 * DAY);
  let expected = 0;
  for (let start = 0; start < n; start += 5000) {
    const chunk: JitUser[] = [];
    for (let i = start; i < Math.min(n, start + 5000); i++) {
      const kind = i % 20; // 0..11 old login, 12..15 never, 16 admin, 17..19 recent
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      if (kind < 16) expected++;
      chunk.push({
        id,
        tenantId: 'acme',
        email: `person.${i}@acme.test`,
        status: 'active' as const,
        source: 'jit' as const,
        attributes: { firstName: 'Person', lastName: String(i) },
        roles:
          kind === 16
            ? [{ role: 'admin', source: 'jit' as const }]
            : [{ role: 'member', source: 'jit' as const }],
        externalId: null,
        createdAt: old,
        updatedAt: old,
        lastLoginAt: kind < 12 || kind === 16 ? old : kind >= 17 ? recent : null,
        deactivatedAt: null,
      });
    }
    // SQLite takes at most 32,766 bound values per statement.
    await dataSource.transaction(async (m) => {
      for (let i = 0; i < chunk.length; i += 1000)
        await m.getRepository(JitUserEntity).insert(chunk.slice(i, i + 1000) as never);
    });
  }
  await dataSource.destroy();
  return { expected };
}

interface Timing {
  ok: boolean;
  seconds: number;
  maxRssMb: number;
  stdout: string;
  stderr: string;
}

/** Runs a node process under /usr/bin/time; `heapMb` caps the V8 heap (--max-old-space-size). */
async function attempt(args: string[], heapMb?: number): Promise<Timing> {
  const flags = heapMb ? [`--max-old-space-size=${heapMb}`] : [];
  const child = spawn(
    '/usr/bin/time',
    ['-f', 'TIME %e %M', process.execPath, ...flags, '--conditions=source', '--import', TSX, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const match = /TIME ([\d.]+) (\d+)/.exec(stderr);
  return {
    ok: code === 0,
    seconds: Number(match?.[1] ?? NaN),
    maxRssMb: Number(match?.[2] ?? NaN) / 1024,
    stdout,
    stderr,
  };
}

async function timed(args: string[], heapMb?: number): Promise<Timing> {
  const result = await attempt(args, heapMb);
  if (!result.ok) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return result;
}

async function count(file: string): Promise<{ deactivated: number; audit: number }> {
  const dataSource = await createJitDataSource(`sqlite:${file}`);
  const store = new TypeormStore(dataSource);
  const { deactivated } = await store.countUsers({ tenantId: 'acme' });
  let audit = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await store.listAuditEvents({ afterId, limit: 5000 });
    audit += page.length;
    if (page.length < 5000) break;
    afterId = page[page.length - 1]!.id;
  }
  await dataSource.destroy();
  return { deactivated, audit };
}

const dir = mkdtempSync(join(tmpdir(), 'jit-bench-cli-'));
const rows: string[] = [];
try {
  // An empty file is an empty SQLite database; `status` only reads, so it would not create one.
  writeFileSync(join(dir, 'empty.db'), '');
  await timed([BIN, 'status', '--database-url', join(dir, 'empty.db')]); // warms the transform cache
  const floor = await timed([BIN, 'status', '--database-url', join(dir, 'empty.db')]);
  rows.push(
    `| (floor) \`jit status\` on an empty file | - | ${floor.seconds.toFixed(1)} | ${floor.maxRssMb.toFixed(0)} | - |`,
  );
  for (const n of sizes) {
    const seeded = join(dir, `seed-${n}.db`);
    const t0 = performance.now();
    const { expected } = await seed(seeded, n);
    process.stderr.write(
      `seeded ${n} users in ${((performance.now() - t0) / 1000).toFixed(1)} s (${expected} dormant to deactivate)\n`,
    );
    const args = [
      'cleanup',
      'dormant',
      '--tenant',
      'acme',
      '--inactive-days',
      '90',
      '--exclude-role',
      'admin',
      '--json',
    ];

    const dryFile = join(dir, `dry-${n}.db`);
    copyFileSync(seeded, dryFile);
    const dry = await timed([BIN, ...args, '--dry-run', '--database-url', dryFile]);
    const dryCount = await count(dryFile);
    if (dryCount.deactivated !== 0 || dryCount.audit !== 0) throw new Error('the dry run wrote');

    const jitFile = join(dir, `jit-${n}.db`);
    copyFileSync(seeded, jitFile);
    const real = await timed([BIN, ...args, '--yes', '--database-url', jitFile]);
    const jitCount = await count(jitFile);
    const summary = JSON.parse(real.stdout.trim().split('\n').pop()!);
    if (
      summary.deactivated !== expected ||
      jitCount.deactivated !== expected ||
      jitCount.audit !== expected
    ) {
      throw new Error(
        `jit deactivated ${summary.deactivated}/${jitCount.deactivated}, audited ${jitCount.audit}, expected ${expected}`,
      );
    }

    // Bounded memory: the same clean-up with the V8 heap capped; the baseline, which holds every user, runs out.
    const cappedFile = join(dir, `capped-${n}.db`);
    copyFileSync(seeded, cappedFile);
    const capped = await timed([BIN, ...args, '--yes', '--database-url', cappedFile], HEAP_CAP_MB);
    if ((await count(cappedFile)).deactivated !== expected) throw new Error('the capped run missed users');
    const naiveCappedFile = join(dir, `naive-capped-${n}.db`);
    copyFileSync(seeded, naiveCappedFile);
    const naiveCapped = await attempt([NAIVE, naiveCappedFile, 'acme', '90', 'admin'], HEAP_CAP_MB);
    const naiveCappedOutcome = naiveCapped.ok
      ? `completes, ${naiveCapped.seconds.toFixed(1)} s, ${naiveCapped.maxRssMb.toFixed(0)} MB`
      : /heap out of memory|Allocation failed/i.test(naiveCapped.stderr)
        ? `runs out of heap after ${naiveCapped.seconds.toFixed(1)} s`
        : `fails: ${naiveCapped.stderr.split('\n').find((l) => l.trim()) ?? ''}`;

    const naiveFile = join(dir, `naive-${n}.db`);
    copyFileSync(seeded, naiveFile);
    const naive = await timed([NAIVE, naiveFile, 'acme', '90', 'admin']);
    const naiveCount = await count(naiveFile);
    if (naiveCount.deactivated !== expected || naiveCount.audit !== expected)
      throw new Error('the baseline missed users');

    const rate = (s: number) => Math.round(expected / s).toLocaleString('en');
    rows.push(
      `| ${n.toLocaleString('en')} users, baseline (load all, one transaction per user) | ${expected.toLocaleString('en')} | ${naive.seconds.toFixed(1)} | ${naive.maxRssMb.toFixed(0)} | ${rate(naive.seconds)} |`,
      `| ${n.toLocaleString('en')} users, \`jit cleanup dormant --dry-run\` | (${expected.toLocaleString('en')}) | ${dry.seconds.toFixed(1)} | ${dry.maxRssMb.toFixed(0)} | ${rate(dry.seconds)} |`,
      `| ${n.toLocaleString('en')} users, \`jit cleanup dormant --yes\` | ${expected.toLocaleString('en')} | ${real.seconds.toFixed(1)} | ${real.maxRssMb.toFixed(0)} | ${rate(real.seconds)} |`,
      `| ${n.toLocaleString('en')} users, \`jit cleanup dormant --yes\`, heap capped at ${HEAP_CAP_MB} MB | ${expected.toLocaleString('en')} | ${capped.seconds.toFixed(1)} | ${capped.maxRssMb.toFixed(0)} | ${rate(capped.seconds)} |`,
      `| ${n.toLocaleString('en')} users, baseline, heap capped at ${HEAP_CAP_MB} MB | ${naiveCappedOutcome} | | | |`,
      `| ratio jit / baseline at ${n.toLocaleString('en')} | | ${(real.seconds / naive.seconds).toFixed(2)}x time | ${(real.maxRssMb / naive.maxRssMb).toFixed(2)}x memory | |`,
    );
    for (const f of [seeded, dryFile, jitFile, naiveFile, cappedFile, naiveCappedFile])
      rmSync(f, { force: true });
  }
  process.stdout.write(
    [
      '| run | deactivated | wall s | max RSS MB | users/s |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows,
    ].join('\n') + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
