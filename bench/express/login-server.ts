/**
 * The app `saml-pool.ts` loads, in a process of its own so that the load generator does not share
 * its event loop: SAML login through @jit-sso/express (passport-saml, the SAML checks, the replay
 * cache, `provisioner.provision`, an express-session login) on a SQLite file, and `GET /healthz`,
 * the cheap unrelated request. SAML responses are validated in-process, or in a
 * `SamlValidationPool` of `JIT_BENCH_THREADS` threads.
 *
 * Environment: JIT_BENCH_IDP (the test IdP's base URL), JIT_BENCH_THREADS (0 = in-process),
 * JIT_BENCH_NICE (the pool's `niceIncrement`), JIT_BENCH_ADMIT (at most this many ACS requests past
 * the first middleware at once, the others waiting before their body is read; 0 = no limit),
 * JIT_BENCH_CACHE (memory | redis). It sends `{ port }` to its parent once listening, and closes
 * when the parent sends `close`.
 */
import { createServer } from 'node:http';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { Redis } from 'ioredis';
import { createProvisioner, type ConnectionInput } from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormDirectoryStore } from '@jit-sso/typeorm';
import {
  admitLogins,
  createSamlStrategy,
  jitErrorHandler,
  LoginAdmission,
  MemoryReplayCache,
  RedisReplayCache,
  samlAuthenticate,
  SamlValidationPool,
  useJitSession,
  type ReplayCache,
} from '@jit-sso/express';
import { IDP_KEY, SP_KEY } from '../../test/e2e/src/saml-idp.js';

const idpBase = process.env['JIT_BENCH_IDP'] ?? '';
const threads = Number(process.env['JIT_BENCH_THREADS'] ?? '0');
const niceIncrement = Number(process.env['JIT_BENCH_NICE'] ?? '0');
const cache = process.env['JIT_BENCH_CACHE'] ?? 'memory';
const admit = Number(process.env['JIT_BENCH_ADMIT'] ?? '0');
const id = 'acme-saml';

const dir = mkdtempSync(join(tmpdir(), 'jit-bench-pool-'));
const dataSource = await createJitDataSource(`sqlite:${join(dir, 'jit.sqlite')}`);
await migrate(dataSource);
const store = new TypeormDirectoryStore(dataSource);

const server = createServer();
// The client keeps its connections between rounds (while it signs the next responses): the server
// must not close them as idle meanwhile, or a reused one fails with ECONNRESET.
server.keepAliveTimeout = 10 * 60_000;
server.headersTimeout = 10 * 60_000 + 1000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const baseUrl = `http://127.0.0.1:${port}`;

const connection: ConnectionInput = {
  id,
  tenantId: 'acme',
  protocol: 'saml',
  issuer: `${idpBase}/metadata/${id}`,
  jit: { verifiedDomains: ['acme.test'], emailAuthoritative: true, defaultRoles: ['member'] },
  protocolOptions: {
    saml: {
      entryPoint: `${idpBase}/sso/${id}`,
      idpCert: [IDP_KEY.cert],
      spEntityId: `${baseUrl}/auth/saml/${id}/metadata`,
      acsUrl: `${baseUrl}/auth/saml/${id}/acs`,
      privateKey: SP_KEY.key,
      publicCert: SP_KEY.cert,
    },
  },
};
const provisioner = createProvisioner({ store, connections: [connection] });
const redis = cache === 'redis' ? new Redis({ host: '127.0.0.1', port: 6379 }) : null;
const replayCache: ReplayCache = redis
  ? new RedisReplayCache(redis, `jit-sso:bench-pool:${randomBytes(4).toString('hex')}:`)
  : new MemoryReplayCache();
const samlValidationPool =
  threads > 0 ? new SamlValidationPool({ threads, maxQueue: 1024, niceIncrement }) : undefined;
await samlValidationPool?.warm();

const passport = new Passport();
useJitSession(passport, provisioner);
passport.use(
  createSamlStrategy({ provisioner, replayCache, ...(samlValidationPool ? { samlValidationPool } : {}) }),
);
const app = express();
app.get('/healthz', (_req, res) => {
  res.json({ ok: true });
});
app.use(
  session({
    name: 'sid',
    secret: randomBytes(32).toString('hex'),
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' },
  }),
);
app.use(passport.initialize());
app.use(passport.session());
app.get('/auth/saml/:connection/login', samlAuthenticate(passport, { provisioner }));
app.post(
  '/auth/saml/:connection/acs',
  // The library's admission, before the body parser (`--admit`).
  ...(admit > 0 ? [admitLogins(new LoginAdmission({ limit: admit, maxWaiting: 1024 }))] : []),
  express.urlencoded({ extended: false }),
  samlAuthenticate(passport, { provisioner }),
  (_req, res) => res.redirect(303, '/'),
);
app.use(jitErrorHandler());
server.on('request', app);

/**
 * The main thread's own CPU time and its time waiting for a core (runnable, not running), in ms,
 * from Linux's scheduler statistics; null elsewhere. Unlike the event loop's busy time, neither
 * grows when other processes take the cores.
 */
function mainThreadSchedule(): { cpuMs: number; waitMs: number } | null {
  try {
    const [cpu, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return { cpuMs: Number(cpu) / 1e6, waitMs: Number(wait) / 1e6 };
  } catch {
    return null;
  }
}

/** The main thread's garbage-collection pauses (ms) since the last 'stats' message. */
let gcPauses: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push(entry.duration);
}).observe({ entryTypes: ['gc'] });

process.send?.({ port });
// With a CPU profile (`saml-pool.ts --cpu-prof-dir`): when each 'stats' message came, on the
// profile's clock (microseconds), so that the profile can be cut to the timed phases.
const profileDir = process.env['JIT_BENCH_PROFILE_DIR'];
const statsAt: number[] = [];
process.on('message', (message) => {
  // CPU time of the whole process (every thread) and the main thread's busy time, for the client to
  // take per login: figures that do not depend on how many other processes share the cores.
  if (message === 'stats') {
    if (profileDir) statsAt.push(Number(process.hrtime.bigint() / 1000n));
    const { user, system } = process.cpuUsage();
    const schedule = mainThreadSchedule();
    process.send?.({
      cpuMs: (user + system) / 1000,
      mainActiveMs: performance.eventLoopUtilization().active,
      mainCpuMs: schedule?.cpuMs ?? null,
      mainWaitMs: schedule?.waitMs ?? null,
      gcPauses,
    });
    gcPauses = [];
    return;
  }
  if (message !== 'close') return;
  void (async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await samlValidationPool?.close();
    redis?.disconnect();
    await dataSource.destroy();
    if (profileDir) {
      writeFileSync(join(profileDir, `timed-${process.pid}.json`), JSON.stringify({ threads, statsAt }));
    }
    rmSync(dir, { recursive: true, force: true });
    process.disconnect?.();
  })();
});
