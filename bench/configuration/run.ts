/**
 * Login latency with connections kept in the configuration store (read once, re-read when the
 * configuration version moves, the version polled every 250 ms) against the same connection given
 * as static configuration, in the same run, on the same TypeORM database (SQLite file in WAL mode,
 * and PostgreSQL unless `--sqlite-only`). The two alternate login by login (which one goes first
 * alternating too), so that the machine's load, which moves a lot on a shared host, hits both alike;
 * the figure is the ratio of the medians once warm.
 *
 *   node --conditions=source --import tsx bench/configuration/run.ts [--logins=2000] [--rounds=5] [--sqlite-only]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import {
  changeConfiguration,
  createProvisioner,
  fromOidcClaims,
  type ConnectionInput,
  type Provisioner,
} from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormConfigurationStore, TypeormStore } from '@jit-sso/typeorm';

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const logins = arg('logins', 2000);
const rounds = arg('rounds', 5);
const sqliteOnly = process.argv.includes('--sqlite-only');
const POSTGRES = process.env['JIT_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE = `${process.env['JIT_BENCH_DATABASE_PREFIX'] ?? 'jit_bench'}_configuration`;

const ISSUER = 'https://idp.acme.test';
const CONNECTION: ConnectionInput = {
  id: 'acme-oidc',
  tenantId: 'acme',
  protocol: 'oidc',
  issuer: ISSUER,
  jit: {
    verifiedDomains: ['acme.test'],
    defaultRoles: ['member'],
    roleRules: [{ group: 'Engineering', roles: ['developer'] }],
  },
  protocolOptions: { oidc: { clientId: 'app', redirectUri: 'https://app.test/cb' } },
};

const claims = (n: number) =>
  fromOidcClaims({
    iss: ISSUER,
    sub: `sub-${n}`,
    email: `person.${n}@acme.test`,
    email_verified: true,
    given_name: 'Ann',
    family_name: 'Lee',
    groups: ['Everyone', 'Engineering'],
  });

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
};

/** Signs in `count` returning users one after another; the latency of each, in ms. */
async function measure(provisioner: Provisioner, count: number, offset: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await provisioner.provision({ connectionId: CONNECTION.id, profile: claims((offset + i) % logins) });
    times.push(performance.now() - start);
  }
  return times;
}

async function compare(label: string, dataSource: DataSource): Promise<void> {
  await migrate(dataSource);
  const configuration = new TypeormConfigurationStore(dataSource);
  const { verifiedDomains, ...jit } = CONNECTION.jit!;
  await changeConfiguration(
    configuration,
    { tenantId: 'acme', actor: 'bench', action: 'connection.created', target: CONNECTION.id },
    async (tx, version, at) => {
      await tx.putConnection({
        id: CONNECTION.id,
        tenantId: 'acme',
        definition: { ...CONNECTION, jit },
        version,
        createdAt: at,
        updatedAt: at,
      });
      for (const domain of verifiedDomains ?? []) {
        await tx.insertDomain({
          domain,
          tenantId: 'acme',
          status: 'verified',
          challenge: 'bench',
          version,
          createdAt: at,
          verifiedAt: at,
        });
      }
      return { result: null, changes: [] };
    },
  );
  const store = new TypeormStore(dataSource);
  const modes: Record<'static' | 'stored', Provisioner> = {
    static: createProvisioner({ store, connections: [CONNECTION] }),
    stored: createProvisioner({ store, configuration: { store: configuration, pollIntervalMs: 250 } }),
  };
  try {
    // Warm-up: every person's first login (creates the accounts), then a returning login in each mode.
    await measure(modes.static, logins, 0);
    await measure(modes.stored, Math.min(logins, 200), 0);
    await measure(modes.static, Math.min(logins, 200), 0);
    const times: Record<'static' | 'stored', number[]> = { static: [], stored: [] };
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < logins; i++) {
        // Alternate which goes first, so that neither always runs right after the other.
        const order: Array<'static' | 'stored'> = i % 2 ? ['stored', 'static'] : ['static', 'stored'];
        for (const mode of order) times[mode].push(...(await measure(modes[mode], 1, round * 7 + i)));
      }
    }
    const staticP50 = median(times.static);
    const storedP50 = median(times.stored);
    console.log(
      `${label}: returning-user login p50 ${staticP50.toFixed(3)} ms static, ${storedP50.toFixed(3)} ms stored ` +
        `(p90 ${percentile(times.static, 0.9).toFixed(3)} / ${percentile(times.stored, 0.9).toFixed(3)} ms), ` +
        `${times.static.length} logins each; stored/static at the median: ${(storedP50 / staticP50).toFixed(3)}x`,
    );
  } finally {
    modes.stored.close?.();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'jit-bench-configuration-'));
try {
  const sqlite = await createJitDataSource(`sqlite:${join(dir, 'bench.db')}`);
  try {
    await compare('SQLite (file, WAL)', sqlite);
  } finally {
    await sqlite.destroy();
  }
  if (!sqliteOnly) {
    const admin = new pg.Client({ connectionString: `${POSTGRES}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${DATABASE}"`);
    try {
      const postgres = await createJitDataSource(`${POSTGRES}/${DATABASE}`);
      try {
        await compare('PostgreSQL', postgres);
      } finally {
        await postgres.destroy();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
      await admin.end();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
