/**
 * Provisioning cost on the memory store: the engine against the verify callback most apps write
 * (find the user by email, insert when missing), for a returning user and for a first login.
 *
 *   node --conditions=source --import tsx bench/core/run.ts [--time=ms] [--rounds=n]
 */
import { randomUUID } from 'node:crypto';
import { Bench } from 'tinybench';
import {
  createProvisioner,
  fromOidcClaims,
  MemoryStore,
  type IdentityStore,
  type UserRecord,
} from '@jit-sso/core';

const TENANT = 'acme';
const ISSUER = 'https://idp.acme.test';
const time = Number(process.argv.find((a) => a.startsWith('--time='))?.slice(7) ?? 1000);

/** Claims as openid-client hands them over after validating the ID token. */
function claims(n: number | string): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: `sub-${n}`,
    aud: 'client-1',
    exp: 1_900_000_000,
    iat: 1_800_000_000,
    email: `Person.${n}@Acme.test`,
    email_verified: true,
    given_name: 'Ann',
    family_name: 'Lee',
    name: 'Ann Lee',
    groups: ['Everyone', 'Engineering'],
  };
}

function engine(store: IdentityStore) {
  const provisioner = createProvisioner({
    store,
    connections: [
      {
        id: 'acme-oidc',
        tenantId: TENANT,
        protocol: 'oidc',
        issuer: ISSUER,
        jit: {
          verifiedDomains: ['acme.test'],
          defaultRoles: ['member'],
          roleRules: [{ group: 'Engineering', roles: ['developer'] }],
        },
      },
    ],
  });
  return (raw: Record<string, unknown>) =>
    provisioner.provision({ connectionId: 'acme-oidc', profile: fromOidcClaims(raw) }).then((r) => r.user);
}

/** The hand-written verify callback: find by email through the store, insert if missing. */
function naive(store: IdentityStore) {
  return async (raw: Record<string, unknown>): Promise<UserRecord> => {
    const email = String(raw['email']).trim().toLowerCase();
    const found = await store.findUserByEmail(TENANT, email);
    if (found) return found;
    const at = new Date();
    return store.transaction((tx) =>
      tx.insertUser({
        id: randomUUID(),
        tenantId: TENANT,
        email,
        status: 'active',
        source: 'jit',
        attributes: { firstName: raw['given_name'], lastName: raw['family_name'] },
        roles: [{ role: 'member', source: 'jit' }],
        externalId: null,
        createdAt: at,
        lastLoginAt: at,
      }),
    );
  };
}

/**
 * The same callback written with the two writes a careful app adds at every sign-in (last login, an
 * audit row) in one transaction; shown for context, the target is measured against `naive`.
 */
function naiveAudited(store: IdentityStore) {
  return async (raw: Record<string, unknown>): Promise<UserRecord> => {
    const email = String(raw['email']).trim().toLowerCase();
    return store.transaction(async (tx) => {
      const at = new Date();
      const found = await tx.findUserByEmail(TENANT, email);
      const user = found
        ? await tx.updateUser(found.id, { lastLoginAt: at, updatedAt: at })
        : await tx.insertUser({
            id: randomUUID(),
            tenantId: TENANT,
            email,
            status: 'active',
            source: 'jit',
            attributes: { firstName: raw['given_name'], lastName: raw['family_name'] },
            roles: [{ role: 'member', source: 'jit' }],
            externalId: null,
            createdAt: at,
            lastLoginAt: at,
          });
      await tx.appendAudit({
        id: randomUUID(),
        at,
        tenantId: TENANT,
        actor: 'jit',
        action: found ? 'unchanged' : 'created',
        connectionId: 'acme-oidc',
        subject: String(raw['sub']),
        userId: user.id,
        reason: null,
        changes: [],
      });
      return user;
    });
  };
}

type Variant = 'naive callback' | 'naive + last login + audit' | 'engine';
const VARIANTS: Record<
  Variant,
  (store: IdentityStore) => (raw: Record<string, unknown>) => Promise<unknown>
> = {
  'naive callback': naive,
  'naive + last login + audit': naiveAudited,
  engine,
};

/** A login function over a store that is replaced every `every` calls, so the heap stays the same size. */
function rotating(
  make: (store: IdentityStore) => (raw: Record<string, unknown>) => Promise<unknown>,
  every: number,
) {
  let fn = make(new MemoryStore());
  let calls = 0;
  return (raw: Record<string, unknown>) => {
    if (++calls % every === 0) fn = make(new MemoryStore());
    return fn(raw);
  };
}

interface Figures {
  opsPerSec: number;
  p50: number;
  p99: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function round(): Promise<Map<string, Figures>> {
  const bench = new Bench({ time, warmupTime: 200 });
  const returning = claims('returning');
  for (const [variant, make] of Object.entries(VARIANTS)) {
    const login = make(new MemoryStore());
    await login(returning);
    bench.add(`returning user: ${variant}`, () => login(returning).then(() => undefined));
  }
  for (const [variant, make] of Object.entries(VARIANTS)) {
    // A new person at every call; the store is renewed every 10,000 people for every variant alike.
    const login = rotating(make, 10_000);
    let n = 0;
    bench.add(`first login: ${variant}`, () => login(claims(n++)).then(() => undefined));
  }
  await bench.run();
  const figures = new Map<string, Figures>();
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`);
    // Operations per second of wall time: the mean of per-sample rates would hide GC pauses.
    figures.set(task.name, {
      opsPerSec: r.latency.samplesCount / (r.totalTime / 1000),
      p50: r.latency.p50 * 1000,
      p99: r.latency.p99 * 1000,
    });
  }
  return figures;
}

async function main() {
  const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 5);
  const all: Map<string, Figures>[] = [];
  for (let i = 0; i < rounds; i++) all.push(await round());
  const names = [...all[0]!.keys()];
  const summary = new Map(
    names.map((name) => {
      const of = (key: keyof Figures) => median(all.map((r) => r.get(name)![key]));
      return [name, { opsPerSec: of('opsPerSec'), p50: of('p50'), p99: of('p99') }] as const;
    }),
  );
  console.table(
    names.map((name) => {
      const s = summary.get(name)!;
      return {
        task: name,
        'ops/s': Math.round(s.opsPerSec),
        'p50 µs': s.p50.toFixed(2),
        'p99 µs': s.p99.toFixed(2),
      };
    }),
  );
  for (const scenario of ['returning user', 'first login']) {
    const e = summary.get(`${scenario}: engine`)!;
    for (const baseline of ['naive callback', 'naive + last login + audit']) {
      const n = summary.get(`${scenario}: ${baseline}`)!;
      console.log(
        `${scenario}: engine costs ${(n.opsPerSec / e.opsPerSec).toFixed(2)}x the ${baseline} in time per login ` +
          `(p50 ${(e.p50 / n.p50).toFixed(2)}x, p99 ${(e.p99 / n.p99).toFixed(2)}x)`,
      );
    }
  }
  console.log(`node ${process.version}; median of ${rounds} rounds of ${time} ms per task`);
}

await main();
