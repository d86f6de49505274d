/**
 * What the outbox costs and what delivery sustains, in one run:
 *   (1) a first login (the engine's `provision`, which creates a user) and a SCIM create (POST /Users
 *       through `createScimService().handle`), each with the outbox row written in its transaction
 *       (`TypeormStore`, the default) and without it (`new TypeormStore(ds, { events: false })`), on
 *       SQLite (a file, WAL) and PostgreSQL. The two variants alternate op by op on the same
 *       database, so that drift, load and caches hit both alike; each op is a new user.
 *   (2) delivery throughput: events per second from the outbox to a local HTTP receiver (node:http,
 *       answering 204), signed, by one worker (`runOnce`, batches of 50 sent in parallel).
 *
 *   node --conditions=source --import tsx bench/outbox/run.ts [--ops=2000] [--events=2000]
 *     [--backends=sqlite,postgres] [--batch=50] [--smoke]
 *
 * Needs PostgreSQL at JIT_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432, no database);
 * its database is named JIT_BENCH_DATABASE_PREFIX (default jit_bench) + _outbox_ + a random suffix, and
 * dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import {
  createDeliveryWorker,
  createProvisioner,
  fromOidcClaims,
  registerWebhookEndpoint,
  type DirectoryStore,
} from '@jit-sso/core';
import { createDirectory, createScimService, issueDirectoryToken } from '@jit-sso/scim';
import { createJitDataSource, migrate, TypeormDirectoryStore } from '@jit-sso/typeorm';

const option = (name: string, fallback: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const SMOKE = process.argv.includes('--smoke');
const OPS = SMOKE ? 20 : option('ops', 2000);
const EVENTS = SMOKE ? 40 : option('events', 2000);
const BATCH = option('batch', 50);
const BACKENDS = (
  process.argv.find((a) => a.startsWith('--backends='))?.slice(11) ?? 'sqlite,postgres'
).split(',');
const SERVER = process.env['JIT_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE = `${process.env['JIT_BENCH_DATABASE_PREFIX'] ?? 'jit_bench'}_outbox_${randomBytes(3).toString('hex')}`;
const CONNECTION = {
  id: 'bench-oidc',
  tenantId: 'bench',
  protocol: 'oidc' as const,
  issuer: 'https://idp.bench.test',
  jit: { verifiedDomains: ['bench.test'], defaultRoles: ['member'] },
};

interface Sample {
  total: number;
  latencies: number[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function admin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

interface Variant {
  login(i: number): Promise<unknown>;
  scimCreate(i: number): Promise<unknown>;
}

async function variant(dataSource: DataSource, events: boolean, name: string): Promise<Variant> {
  const store = new TypeormDirectoryStore(dataSource, { events });
  const provisioner = createProvisioner({ store, connections: [CONNECTION] });
  const directory = await createDirectory(store as DirectoryStore, { tenantId: `bench-${name}` });
  const { token } = await issueDirectoryToken(store as DirectoryStore, directory.id);
  const scim = createScimService({
    store: store as DirectoryStore,
    baseUrl: 'https://app.bench.test/scim/v2',
  });
  return {
    login: (i) =>
      provisioner.provision({
        connectionId: CONNECTION.id,
        profile: fromOidcClaims({
          iss: CONNECTION.issuer,
          sub: `${name}-${i}`,
          email: `${name}-${i}@bench.test`,
          email_verified: true,
          name: `User ${i}`,
        }),
      }),
    async scimCreate(i) {
      const res = await scim.handle({
        method: 'POST',
        path: '/Users',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: `${name}-scim-${i}@bench.test`,
          name: { givenName: 'Bench', familyName: String(i) },
          emails: [{ value: `${name}-scim-${i}@bench.test`, primary: true }],
          active: true,
        },
      });
      if (res.status !== 201)
        throw new Error(`SCIM create answered ${res.status}: ${JSON.stringify(res.body)}`);
    },
  };
}

/** Runs `op` for both variants in alternating blocks; per-op latencies of each. */
async function compare(
  op: 'login' | 'scimCreate',
  withEvents: Variant,
  without: Variant,
): Promise<{ with: Sample; without: Sample }> {
  const samples = {
    with: { total: 0, latencies: [] as number[] },
    without: { total: 0, latencies: [] as number[] },
  };
  let i = 0;
  // A warm-up, not counted.
  for (; i < Math.min(OPS, 50); i++) {
    await withEvents[op](i);
    await without[op](i);
  }
  // Alternating op by op (which goes first alternates too): a change of the machine's load hits
  // both variants alike.
  for (let k = 0; k < OPS; k++, i++) {
    const order = k % 2 ? (['without', 'with'] as const) : (['with', 'without'] as const);
    for (const which of order) {
      const t = performance.now();
      await (which === 'with' ? withEvents : without)[op](i);
      const ms = performance.now() - t;
      samples[which].latencies.push(ms);
      samples[which].total += ms;
    }
  }
  return samples;
}

function row(backend: string, scenario: string, s: { with: Sample; without: Sample }): string {
  const mean = (x: Sample) => x.total / x.latencies.length;
  const overheadMean = (mean(s.with) / mean(s.without) - 1) * 100;
  const overheadP50 = (median(s.with.latencies) / median(s.without.latencies) - 1) * 100;
  return `| ${backend} | ${scenario} | ${s.with.latencies.length} | ${mean(s.without).toFixed(3)} | ${mean(s.with).toFixed(3)} | ${median(s.without.latencies).toFixed(3)} | ${median(s.with.latencies).toFixed(3)} | ${overheadMean.toFixed(1)}% | ${overheadP50.toFixed(1)}% |`;
}

async function throughput(dataSource: DataSource, receiverUrl: string): Promise<string> {
  const store = new TypeormDirectoryStore(dataSource);
  await registerWebhookEndpoint(
    { store, mode: 'development' },
    { tenantId: 'bench-delivery', url: receiverUrl },
  );
  const provisioner = createProvisioner({
    store,
    connections: [{ ...CONNECTION, id: 'bench-delivery', tenantId: 'bench-delivery' }],
  });
  // Deliver what the comparison wrote (those events have no endpoint: dispatched, nothing to send).
  const worker = createDeliveryWorker({ store, mode: 'development', batchSize: BATCH });
  await worker.runOnce();
  for (let i = 0; i < EVENTS; i++) {
    await provisioner.provision({
      connectionId: 'bench-delivery',
      profile: fromOidcClaims({
        iss: CONNECTION.issuer,
        sub: `d-${i}`,
        email: `d-${i}@bench.test`,
        email_verified: true,
      }),
    });
  }
  const start = performance.now();
  const report = await worker.runOnce();
  const seconds = (performance.now() - start) / 1000;
  if (report.delivered !== EVENTS) throw new Error(`delivered ${report.delivered} of ${EVENTS}`);
  return `${report.delivered} events in ${seconds.toFixed(2)} s: ${(report.delivered / seconds).toFixed(0)} events/s`;
}

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.statusCode = 204;
    res.end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;

const dir = mkdtempSync(join(tmpdir(), 'jit-bench-outbox-'));
const rows: string[] = [];
const deliveries: string[] = [];
try {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${DATABASE}"`);
    await c.query(`CREATE DATABASE "${DATABASE}"`);
  });
  const backends: [string, string][] = [
    ['SQLite (file, WAL)', `sqlite:${join(dir, 'outbox.db')}`],
    ['PostgreSQL', `${SERVER}/${DATABASE}`],
  ];
  for (const [backend, url] of backends.filter(([b]) =>
    BACKENDS.includes(b.startsWith('SQLite') ? 'sqlite' : 'postgres'),
  )) {
    const dataSource = await createJitDataSource(url);
    try {
      await migrate(dataSource);
      const withEvents = await variant(dataSource, true, 'with');
      const without = await variant(dataSource, false, 'without');
      rows.push(row(backend, 'first login', await compare('login', withEvents, without)));
      rows.push(row(backend, 'SCIM create', await compare('scimCreate', withEvents, without)));
      deliveries.push(`| ${backend} | ${await throughput(dataSource, receiverUrl)} |`);
    } finally {
      await dataSource.destroy();
    }
  }
} finally {
  server.close();
  rmSync(dir, { recursive: true, force: true });
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`)).catch(() => undefined);
}

console.log(`outbox cost: ${OPS} ops per variant, alternating op by op; times in ms per op\n`);
console.log(
  '| backend | operation | ops | mean without | mean with | p50 without | p50 with | overhead (mean) | overhead (p50) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
console.log('\ndelivery to a local receiver, one worker\n');
console.log('| backend | throughput |');
console.log('| --- | --- |');
for (const d of deliveries) console.log(d);
