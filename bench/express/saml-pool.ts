/**
 * SAML validation in-process against a `SamlValidationPool` of 1, 2 and 4 threads, in one run: the
 * same app (`login-server.ts`, one process per mode, all started at once) loaded with the same
 * logins. Each round loads every mode, in an order that rotates from round to round, with
 * `--concurrency` logins in flight (a closed loop: each finished login starts the next); meanwhile a
 * probe sends `GET /healthz` one at a time. Reported: logins/s (median of the rounds), the `/healthz`
 * latency (p50 and p99 of every probe of the mode), and the load average of the machine. Per login:
 * the server's CPU (all threads), its event loop's busy time, and (Linux) its main thread's own CPU
 * time, the probes' share taken out (each mode's CPU per probe is measured alone first), and the time
 * the main thread waited for a core. `--nice` runs every pool size with each `niceIncrement`;
 * `--admit` with each limit of ACS requests past the server's first middleware at once (0: none; the
 * others wait before their body is read);
 * `--cpu-prof-dir` has the servers write V8 CPU profiles there, with `timed-<pid>.json` giving the
 * timed phases on the profile's clock. The main thread's garbage-collection pauses during the timed
 * phases are counted (their number per 100 logins, their total per login, the longest).
 * `--server-flags` starts each server process with those Node options (space-separated), such as
 * `--single-threaded-gc`.
 *
 * The load generator and the IdP (which signs every response) run in this process; each server
 * process runs only the app.
 *
 *   node --conditions=source --import tsx bench/express/saml-pool.ts [--rounds=3] [--logins=300] [--concurrency=50] [--threads=1,2,4] [--nice=0,10] [--admit=0,4] [--cache=memory|redis] [--cpu-prof-dir=<dir>] [--pin] [--server-flags=<flags>]
 *
 * A login here is its ACS POST only: the AuthnRequest (`GET .../login`, which binds the login to
 * this client's cookie) and the IdP's signing run before the timed phase.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { loadavg, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TestSamlIdp, type SamlIdpUser } from '../../test/e2e/src/saml-idp.js';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const ROUNDS = Number(arg('rounds', '3'));
const LOGINS = Number(arg('logins', '300'));
const CONCURRENCY = Number(arg('concurrency', '50'));
const THREADS = arg('threads', '1,2,4').split(',').map(Number);
/** The pools' `niceIncrement`s: each thread count runs with each. */
const NICE = arg('nice', '0').split(',').map(Number);
/** Limits of ACS requests in the server's hands at once (0 = none): each pool runs with each. */
const ADMIT = arg('admit', '0').split(',').map(Number);
const CACHE = arg('cache', 'memory');
/** A directory: the server processes write V8 CPU profiles of their threads there (`--cpu-prof`). */
const PROFILE = arg('cpu-prof-dir', '');
/**
 * `--pin` (Linux, `taskset`): each server's main thread alone on the first core; its other threads
 * (the validation pool, libuv's, V8's) and this process (the load generator, the probe) on the others.
 */
const PIN = process.argv.includes('--pin');
/** Node options of every server process (`--server-flags=--single-threaded-gc`). */
const SERVER_FLAGS = arg('server-flags', '').split(' ').filter(Boolean);
/** The machine's cores, read before this process pins itself. */
const CORES = availableParallelism();
const WARMUP = Math.min(60, LOGINS);
if (PIN) {
  if (CORES < 2) throw new Error('--pin needs at least 2 cores.');
  execFileSync('taskset', ['-a', '-p', '-c', `1-${CORES - 1}`, String(process.pid)]);
}
const id = 'acme-saml';

interface Mode {
  name: string;
  threads: number;
  child: ChildProcess;
  baseUrl: string;
  rates: number[];
  healthz: number[];
  loads: number[];
  /** Per login: CPU of the server process (all threads), and busy time of its main thread. */
  cpuMs: number[];
  mainMs: number[];
  /** Per login (Linux): the main thread's own CPU, `/healthz` probes taken out, and its wait for a core. */
  mainCpuMs: number[];
  mainWaitMs: number[];
  /** The main thread's CPU per `/healthz` answer, measured alone. */
  probeCpuMs: number | null;
  /** The main thread's garbage-collection pauses in the timed phases (ms), and the logins timed. */
  gcPauses: number[];
  logins: number;
}

const idp = new TestSamlIdp();
await idp.start();
const idpBase = idp.entityIdFor(id).replace(`/metadata/${id}`, '');

async function start(threads: number, nice = 0, admit = 0): Promise<Mode> {
  const child = fork(join(import.meta.dirname, 'login-server.ts'), [], {
    execArgv: [
      '--conditions=source',
      '--import',
      'tsx',
      ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : []),
      ...SERVER_FLAGS,
    ],
    env: {
      ...process.env,
      JIT_BENCH_IDP: idpBase,
      JIT_BENCH_THREADS: String(threads),
      JIT_BENCH_NICE: String(nice),
      JIT_BENCH_ADMIT: String(admit),
      JIT_BENCH_CACHE: CACHE,
      ...(PROFILE ? { JIT_BENCH_PROFILE_DIR: PROFILE } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`login server exited with ${code}`)));
  });
  if (PIN) {
    // Every thread of the server (the pool's are started by now) off the first core, then its main thread (tid = pid) on it alone.
    execFileSync('taskset', ['-a', '-p', '-c', `1-${CORES - 1}`, String(child.pid)]);
    execFileSync('taskset', ['-p', '-c', '0', String(child.pid)]);
  }
  return {
    name:
      threads === 0
        ? 'in-process'
        : `pool, ${threads} thread${threads > 1 ? 's' : ''}${nice ? `, niceIncrement ${nice}` : ''}${admit ? `, ${admit} logins admitted` : ''}`,
    threads,
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    rates: [],
    healthz: [],
    loads: [],
    cpuMs: [],
    mainMs: [],
    mainCpuMs: [],
    mainWaitMs: [],
    probeCpuMs: null,
    gcPauses: [],
    logins: 0,
  };
}

interface Stats {
  cpuMs: number;
  mainActiveMs: number;
  mainCpuMs: number | null;
  mainWaitMs: number | null;
  /** The main thread's garbage-collection pauses (ms) since the previous `stats`. */
  gcPauses: number[];
}

function stats(mode: Mode): Promise<Stats> {
  return new Promise((resolve) => {
    mode.child.once('message', (m) => resolve(m as Stats));
    mode.child.send('stats');
  });
}

/** The main thread's CPU per `/healthz` answer, with nothing else to do (to take the probes out). */
async function probeCost(mode: Mode, probes = 200): Promise<number | null> {
  const before = await stats(mode);
  for (let i = 0; i < probes; i++) {
    await (await fetch(`${mode.baseUrl}/healthz`)).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const after = await stats(mode);
  return after.mainCpuMs === null || before.mainCpuMs === null
    ? null
    : (after.mainCpuMs - before.mainCpuMs) / probes;
}

interface Prepared {
  acsUrl: string;
  cookie: string;
  body: string;
}

const tag = randomBytes(3).toString('hex');
let people = 0;
function person(): SamlIdpUser {
  const n = `${tag}-${people++}`;
  return {
    nameID: `pool-${n}`,
    attributes: { email: `pool.${n}@acme.test`, givenName: 'Pool', sn: n, groups: ['engineering'] },
  };
}

/** Starts a login (AuthnRequest, binding cookie) and signs the IdP's response to it; nothing timed. */
async function prepare(mode: Mode): Promise<Prepared> {
  const start = await fetch(`${mode.baseUrl}/auth/saml/${id}/login`, { redirect: 'manual' });
  const request = idp.requestFromRedirect(start.headers.get('location')!);
  const cookie = start.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const body = new URLSearchParams({
    SAMLResponse: Buffer.from(idp.createResponse({ request, user: person() })).toString('base64'),
    RelayState: request.relayState,
  }).toString();
  return { acsUrl: request.acsUrl, cookie, body };
}

async function post(login: Prepared): Promise<void> {
  const answer = await fetch(login.acsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: login.cookie },
    body: login.body,
    redirect: 'manual',
  });
  await answer.arrayBuffer();
  if (answer.status !== 303) throw new Error(`login failed: ${answer.status}`);
}

/** Posts every prepared login with `CONCURRENCY` in flight; probes `/healthz` meanwhile. */
async function load(mode: Mode, logins: Prepared[]): Promise<{ rate: number; healthz: number[] }> {
  let next = 0;
  let running = true;
  const healthz: number[] = [];
  const probe = (async () => {
    while (running) {
      const t0 = performance.now();
      const answer = await fetch(`${mode.baseUrl}/healthz`);
      await answer.arrayBuffer();
      if (running || healthz.length === 0) healthz.push(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < logins.length) await post(logins[next++]!);
    }),
  );
  const elapsed = performance.now() - t0;
  running = false;
  await probe;
  return { rate: (logins.length / elapsed) * 1000, healthz };
}

async function batch(mode: Mode, n: number): Promise<Prepared[]> {
  const logins: Prepared[] = [];
  for (let i = 0; i < n; i++) logins.push(await prepare(mode));
  return logins;
}

const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
};
const median = (samples: number[]) => percentile(samples, 0.5);

const modes = [await start(0)];
for (const threads of THREADS) {
  for (const nice of NICE) for (const admit of ADMIT) modes.push(await start(threads, nice, admit));
}
for (const mode of modes) await load(mode, await batch(mode, WARMUP));
for (const mode of modes) mode.probeCpuMs = await probeCost(mode);

for (let round = 0; round < ROUNDS; round++) {
  const order = modes.map((_, i) => modes[(i + round) % modes.length]!);
  for (const mode of order) {
    const logins = await batch(mode, LOGINS);
    const before = loadavg()[0]!;
    const used = await stats(mode);
    const { rate, healthz } = await load(mode, logins);
    const after = await stats(mode);
    mode.cpuMs.push((after.cpuMs - used.cpuMs) / logins.length);
    mode.mainMs.push((after.mainActiveMs - used.mainActiveMs) / logins.length);
    if (after.mainCpuMs !== null && used.mainCpuMs !== null && mode.probeCpuMs !== null) {
      const probes = healthz.length * mode.probeCpuMs;
      mode.mainCpuMs.push((after.mainCpuMs - used.mainCpuMs - probes) / logins.length);
      mode.mainWaitMs.push((after.mainWaitMs! - used.mainWaitMs!) / logins.length);
    }
    mode.gcPauses.push(...after.gcPauses);
    mode.logins += logins.length;
    mode.rates.push(rate);
    mode.healthz.push(...healthz);
    mode.loads.push((before + loadavg()[0]!) / 2);
  }
}

const base = median(modes[0]!.rates);
console.log(
  `main thread CPU per /healthz answer, alone: ${modes.map((m) => `${m.name} ${m.probeCpuMs?.toFixed(3) ?? 'n/a'} ms`).join(', ')}`,
);
console.log(
  `SAML logins through @jit-sso/express, in-process validation against a SamlValidationPool; ${ROUNDS} rounds of ${LOGINS} logins per mode, ${CONCURRENCY} in flight, ${CACHE} replay cache, Node ${process.version}, ${CORES} cores${PIN ? ", pinned: each server's main thread alone on core 0, its other threads and the load generator on the rest" : ''}${SERVER_FLAGS.length ? `, servers run with ${SERVER_FLAGS.join(' ')}` : ''}`,
);
console.log(
  '| validation | logins/s (median) | logins/s per round | vs in-process | /healthz p50 (ms) | /healthz p99 (ms) | probes | load average | CPU ms per login (all threads) | main thread busy ms per login | main thread CPU ms per login (probes out) | main thread waiting for a core, ms per login | main thread GC pauses per 100 logins | GC pause ms per login | longest GC pause (ms) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const figure = (samples: number[]) => (samples.length ? median(samples).toFixed(2) : 'n/a');
for (const mode of modes) {
  const rate = median(mode.rates);
  console.log(
    `| ${mode.name} | ${rate.toFixed(1)} | ${mode.rates.map((r) => r.toFixed(1)).join(', ')} | ${(rate / base).toFixed(2)}x | ${percentile(mode.healthz, 0.5).toFixed(2)} | ${percentile(mode.healthz, 0.99).toFixed(2)} | ${mode.healthz.length} | ${mode.loads.map((l) => l.toFixed(1)).join(', ')} | ${median(mode.cpuMs).toFixed(2)} | ${median(mode.mainMs).toFixed(2)} | ${figure(mode.mainCpuMs)} | ${figure(mode.mainWaitMs)} | ${((mode.gcPauses.length / mode.logins) * 100).toFixed(1)} | ${(mode.gcPauses.reduce((a, b) => a + b, 0) / mode.logins).toFixed(2)} | ${Math.max(0, ...mode.gcPauses).toFixed(1)} |`,
  );
}

for (const mode of modes) {
  mode.child.send('close');
  await new Promise((resolve) => mode.child.once('exit', resolve));
}
await idp.close();
