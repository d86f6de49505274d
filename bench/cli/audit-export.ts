/**
 * `jit audit export` of N audit events as a process, with the V8 heap capped, against the
 * hand-written export (naive-audit.ts: one query, everything in memory) on the same file.
 *
 *   node --conditions=source --import tsx bench/cli/audit-export.ts [--events=1000000] [--heap-cap=64]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { uuidv7, type AuditEvent } from '@jit-sso/core';
import { createJitDataSource, JitAuditEventEntity, migrate } from '@jit-sso/typeorm';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const BIN = join(root, 'packages', 'jit-cli', 'src', 'bin.ts');
const NAIVE = join(here, 'naive-audit.ts');
const TSX = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const EVENTS = arg('events', 1_000_000);
const HEAP_CAP_MB = arg('heap-cap', 64);

async function run(args: string[], heapMb?: number) {
  const flags = heapMb ? [`--max-old-space-size=${heapMb}`] : [];
  const child = spawn(
    '/usr/bin/time',
    ['-f', 'TIME %e %M', process.execPath, ...flags, '--conditions=source', '--import', TSX, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stdout.resume();
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const match = /TIME ([\d.]+) (\d+)/.exec(stderr);
  return { ok: code === 0, seconds: Number(match?.[1]), maxRssMb: Number(match?.[2]) / 1024, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'jit-bench-audit-'));
try {
  const file = join(dir, 'audit.db');
  const dataSource = await createJitDataSource(`sqlite:${file}`);
  await migrate(dataSource);
  const start = Date.now() - EVENTS * 10;
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i += 10_000) {
    const chunk: AuditEvent[] = [];
    for (let j = i; j < Math.min(EVENTS, i + 10_000); j++) {
      const at = new Date(start + j * 10);
      chunk.push({
        id: uuidv7(at),
        at,
        tenantId: `tenant-${j % 7}`,
        actor: 'jit',
        action: j % 5 === 0 ? 'created' : 'unchanged',
        connectionId: 'acme-okta',
        subject: `00u${j}`,
        userId: `00000000-0000-4000-8000-${String(j).padStart(12, '0')}`,
        reason: null,
        changes: j % 5 === 0 ? [{ field: 'email', from: null, to: `person.${j}@acme.test` }] : [],
      });
    }
    await dataSource.transaction(async (m) => {
      for (let k = 0; k < chunk.length; k += 2500)
        await m.getRepository(JitAuditEventEntity).insert(chunk.slice(k, k + 2500) as never);
    });
  }
  await dataSource.destroy();
  process.stderr.write(`seeded ${EVENTS} events in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  const since = new Date(start - 1000).toISOString();
  const rows: string[] = [];
  const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
  for (const heap of [undefined, HEAP_CAP_MB]) {
    const label = heap ? `, heap capped at ${heap} MB` : '';
    const out = join(dir, `jit-${heap ?? 'free'}.jsonl`);
    const jit = await run(
      [BIN, 'audit', 'export', '--since', since, '--output', out, '--database-url', file],
      heap,
    );
    if (!jit.ok || lines(out) !== EVENTS) throw new Error(`jit export failed: ${jit.stderr}`);
    rows.push(
      `| \`jit audit export\`${label} | ${EVENTS.toLocaleString('en')} | ${jit.seconds.toFixed(1)} | ${jit.maxRssMb.toFixed(0)} | ${Math.round(EVENTS / jit.seconds).toLocaleString('en')} | ${(statSync(out).size / 1e6).toFixed(0)} MB |`,
    );
    rmSync(out);
    const naiveOut = join(dir, `naive-${heap ?? 'free'}.jsonl`);
    const naive = await run([NAIVE, file, since, naiveOut], heap);
    rows.push(
      naive.ok
        ? `| baseline (one query, all in memory)${label} | ${lines(naiveOut).toLocaleString('en')} | ${naive.seconds.toFixed(1)} | ${naive.maxRssMb.toFixed(0)} | ${Math.round(EVENTS / naive.seconds).toLocaleString('en')} | |`
        : `| baseline (one query, all in memory)${label} | ${/heap out of memory|Allocation failed/i.test(naive.stderr) ? `runs out of heap after ${naive.seconds.toFixed(1)} s` : 'fails'} | | | | |`,
    );
    rmSync(naiveOut, { force: true });
  }
  process.stdout.write(
    [
      '| run | events | wall s | max RSS MB | events/s | output |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
    ].join('\n') + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
