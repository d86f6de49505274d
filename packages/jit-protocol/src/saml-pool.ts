import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Parser, processors } from 'xml2js';
import { SamlStatusError, type Profile, type SamlConfig } from '@node-saml/node-saml';
import { ConfigurationError, JitError, ServerBusyError, type JitErrorCode } from '@jit-sso/core';
import { moduleUrl } from './module-url.js';
import { positiveInteger } from './positive-integer.js';
import type { SamlExpectations } from './saml-checks.js';
import { configKeyOf, expectationsOf, keepPrecheck } from './saml-precheck.js';
import type {
  CloneableSamlConfig,
  MainThreadAnswer,
  MainThreadCall,
  SerializedError,
  ValidationResult,
  ValidationTask,
  ValidationThreadData,
} from './saml-worker.js';

// `CALLS_PORT` of the worker module, not imported: this module must not load the worker's.
const CALLS_PORT = 'jitSamlValidationCalls';

/** What the main thread keeps of a validation in progress, to answer its thread's calls. */
interface Pending {
  config: CloneableSamlConfig;
  cacheProvider: SamlConfig['cacheProvider'];
  /** The cache's errors, handed back as they were (the thread names them by index). */
  failures: unknown[];
}

/** How many threads validate SAML responses, and how many responses may wait for one. */
export interface SamlValidationPoolOptions {
  /** Worker threads validating SAML responses (default: the machine's cores − 1, at least 1). */
  threads?: number;
  /**
   * Responses that may wait for a free thread (default 256). When the queue is full a login is
   * refused at once with `SERVER_BUSY` (503, `Retry-After`) instead of holding more memory.
   */
  maxQueue?: number;
  /** The `Retry-After` of a refusal for a full queue, in seconds (default 2). */
  retryAfterSeconds?: number;
  /**
   * Lowers the scheduling priority of the validation threads by this much (Linux `nice`, 0 to 19;
   * default 0, the priority of the rest of the process). When the cores are all busy, the event
   * loop then gets a core before the validations do, so that the app's other requests are not kept
   * waiting by them; with a spare core it changes nothing. Linux only: elsewhere a thread's
   * priority is the whole process's, and this is ignored.
   */
  niceIncrement?: number;
}

/** What node-saml's `validatePostResponseAsync` resolves to, with the checks already made. */
export interface PooledValidation {
  /** The verified login, its functions (`getAssertionXml`...) rebuilt on this thread; null for a logout or NoPassive answer. */
  profile: Profile | null;
  /** True for a logout response. */
  loggedOut: boolean;
}

const WORKER = 'saml-worker';
const moduleDir = dirname(fileURLToPath(moduleUrl));

/**
 * The process's options a thread of the workspace's TypeScript source keeps (`--option=value` forms
 * only): profiling, conditions, source maps, warnings. Node refuses V8 and process-wide options, such
 * as `--max-old-space-size`, in a worker's explicit `execArgv`.
 */
const SOURCE_THREAD_OPTION =
  /^--(cpu-prof|heap-prof|conditions=|enable-source-maps$|no-warnings$|no-deprecation$)/;

/**
 * The worker module in `dir` (beside this one): compiled (`.js`), whose threads inherit the
 * process's options as every worker thread does (no `execArgv`: an app started with
 * `node --max-old-space-size=4096` must not fail), or the workspace's TypeScript source, run through
 * tsx with the `source` export condition. `INVALID_CONFIGURATION` when missing.
 */
export function findSamlWorker(dir = moduleDir): { filename: string; execArgv?: string[] } {
  const moduleDir = dir;
  const compiled = join(moduleDir, `${WORKER}.js`);
  if (existsSync(compiled)) return { filename: compiled };
  const source = join(moduleDir, `${WORKER}.ts`);
  if (existsSync(source)) {
    let tsx: string;
    try {
      tsx = createRequire(join(moduleDir, 'noop.js')).resolve('tsx');
    } catch (error) {
      throw new ConfigurationError(
        `The SAML validation worker is only present as TypeScript (${source}), and tsx, which runs it, cannot be found.`,
        { cause: error },
      );
    }
    return {
      filename: source,
      execArgv: [
        ...process.execArgv.filter((option) => SOURCE_THREAD_OPTION.test(option)),
        '--conditions=source',
        '--import',
        pathToFileURL(tsx).href,
      ],
    };
  }
  throw new ConfigurationError(
    `The SAML validation worker (${compiled}) is missing from @jit-sso/protocol; reinstall the package, or validate in-process (leave out samlValidationPool).`,
  );
}

/**
 * Validates SAML responses on worker threads: node-saml's validation (XML parsing, canonicalisation,
 * signatures, conditions) and the checks of `checkSamlAssertion`, the CPU-heavy part of a SAML
 * login, off the event loop and on several cores. The replay cache, the login binding, the
 * request-id look-ups (node-saml asks the main thread for them) and the store transaction stay on the
 * main thread. Refusals are the same errors, with the same codes and audit events, as in-process.
 *
 * Give it to the SAML strategy (`samlValidationPool`); the threads start at the first login. Close it
 * when the app shuts down (`close()`), or worker threads keep the process alive.
 */
export class SamlValidationPool {
  /** Worker threads validating responses. */
  readonly threads: number;
  /** Responses that may wait for a thread before logins are refused with `SERVER_BUSY`. */
  readonly maxQueue: number;
  private readonly retryAfterSeconds: number;
  private readonly niceIncrement: number;
  private readonly worker: { filename: string; execArgv?: string[] };
  private pool: Piscina | null = null;
  private closed = false;
  private validations = 0;
  private nextTask = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(options: SamlValidationPoolOptions = {}) {
    this.threads = positiveInteger(
      'SamlValidationPool',
      options.threads,
      Math.max(1, availableParallelism() - 1),
      'threads',
    );
    this.maxQueue = positiveInteger('SamlValidationPool', options.maxQueue, 256, 'maxQueue');
    this.retryAfterSeconds = positiveInteger(
      'SamlValidationPool',
      options.retryAfterSeconds,
      2,
      'retryAfterSeconds',
    );
    const nice = options.niceIncrement ?? 0;
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) {
      throw new ConfigurationError('SamlValidationPool: niceIncrement must be an integer from 0 to 19.');
    }
    this.niceIncrement = nice;
    this.worker = findSamlWorker();
  }

  /** Responses a worker has validated (or refused) so far. */
  get completed(): number {
    return this.validations;
  }

  /** Responses waiting for a free thread. */
  get queueSize(): number {
    return this.pool?.queueSize ?? 0;
  }

  private piscina(): Piscina {
    if (this.closed) throw new ConfigurationError('The SAML validation pool is closed.');
    if (this.pool) return this.pool;
    let pool: Piscina;
    try {
      pool = this.start();
    } catch (error) {
      // Node refused to start the threads: a server failure (500, logged with its cause), not a
      // refusal of the response.
      throw new ConfigurationError('The SAML validation threads could not be started; see the cause.', {
        cause: error,
      });
    }
    // Each thread sends the port of its calls (cache look-ups, options) once, when it starts.
    pool.on('message', (message: unknown) => {
      const port = (message as Record<string, unknown> | null)?.[CALLS_PORT];
      if (port) this.listen(port as MessagePort);
    });
    this.pool = pool;
    return pool;
  }

  private start(): Piscina {
    return new Piscina({
      filename: this.worker.filename,
      name: 'validateSamlResponse',
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: this.maxQueue,
      // A validation waits for the main thread's answers to its cache look-ups; meanwhile the
      // thread validates another response instead of idling.
      concurrentTasksPerWorker: 4,
      idleTimeout: Infinity,
      ...(this.worker.execArgv ? { execArgv: this.worker.execArgv } : {}),
      workerData: { niceIncrement: this.niceIncrement } satisfies ValidationThreadData,
    });
  }

  /** Answers a thread's calls for its tasks: the task's options, or its cache's answer. */
  private listen(port: MessagePort): void {
    port.on('message', (call: MainThreadCall) => {
      const answer = (value: unknown) => port.postMessage({ id: call.id, value } as MainThreadAnswer);
      const task = this.pending.get(call.task);
      if (!task) {
        // The task is over (its thread gave up on it): nothing waits for the answer.
        return port.postMessage({ id: call.id, failure: -1 } as MainThreadAnswer);
      }
      const fail = (error: unknown) =>
        port.postMessage({ id: call.id, failure: task.failures.push(error) - 1 } as MainThreadAnswer);
      if (call.op === 'config') return answer(task.config);
      const { cacheProvider } = task;
      if (!cacheProvider) return fail(new Error('node-saml has no cacheProvider.'));
      let pending: Promise<unknown>;
      try {
        pending =
          call.op === 'saveAsync'
            ? cacheProvider.saveAsync(call.key!, call.value!)
            : call.op === 'getAsync'
              ? cacheProvider.getAsync(call.key!)
              : cacheProvider.removeAsync(call.key ?? null);
      } catch (error) {
        return fail(error);
      }
      pending.then(answer, fail);
    });
    // The threads, not this port, keep the process alive while they work.
    port.unref();
  }

  /** Starts the threads and loads the worker module now rather than at the first login. */
  async warm(): Promise<void> {
    const pool = this.piscina();
    if (pool.threads.length < this.threads) await new Promise((resolve) => pool.once('ready', resolve));
  }

  /**
   * node-saml's `validatePostResponseAsync` with these options, on a worker; the cache of
   * `config.cacheProvider` answers the worker's request-id look-ups here. `expect` (or what
   * `samlOptionsFor` recorded for `config`) is what `checkSamlAssertion` checks on the worker.
   */
  async validatePostResponse(
    config: SamlConfig,
    container: { SAMLResponse?: unknown },
    expect: SamlExpectations | undefined = expectationsOf(config),
  ): Promise<PooledValidation> {
    if (!expect) {
      throw new ConfigurationError(
        'SamlValidationPool needs the node-saml options of samlOptionsFor (or the expectations of checkSamlAssertion).',
      );
    }
    const pool = this.piscina();
    if (pool.queueSize >= this.maxQueue) throw this.busy();
    const { cacheProvider, ...cloneable } = config;
    const id = this.nextTask++;
    const failures: unknown[] = [];
    this.pending.set(id, { config: cloneable, cacheProvider, failures });
    const configKey = configKeyOf(config);
    const task: ValidationTask = {
      id,
      ...(configKey === undefined ? { config: cloneable } : { configKey }),
      samlResponse: String(container.SAMLResponse ?? ''),
      expect: { idpEntityId: expect.idpEntityId, acsUrl: expect.acsUrl, allowSha1: !!expect.allowSha1 },
    };
    let result: ValidationResult;
    try {
      result = (await pool.run(task)) as ValidationResult;
      this.validations++;
    } catch (error) {
      if (error instanceof Error && /queue is at limit/i.test(error.message)) throw this.busy();
      // The worker did not run the task (it could not load, or it died): a server failure (500,
      // logged with its cause), not a refusal of the response.
      throw new ConfigurationError('The SAML validation worker failed; see the cause.', { cause: error });
    } finally {
      this.pending.delete(id);
    }
    if (!result.ok) throw rebuild(result.error, failures);
    if (!result.profile) return { profile: null, loggedOut: result.loggedOut };
    const { assertionXml, samlResponseXml, assertion } = result;
    let parsed: Record<string, unknown> | undefined;
    const profile = {
      ...result.profile,
      ...(assertionXml === undefined ? {} : { getAssertionXml: () => assertionXml }),
      ...(samlResponseXml === undefined ? {} : { getSamlResponseXml: () => samlResponseXml }),
      ...(assertion && assertionXml !== undefined
        ? { getAssertion: () => (parsed ??= readAssertion(assertionXml)) }
        : {}),
    } as Profile;
    if (result.checked) keepPrecheck(profile, { checked: result.checked });
    else if (result.checkError) keepPrecheck(profile, { error: rebuild(result.checkError, failures) });
    return { profile, loggedOut: result.loggedOut };
  }

  private busy(): ServerBusyError {
    return new ServerBusyError(
      `Too many SAML responses are waiting to be validated (${this.maxQueue}); this sign-in was not attempted.`,
      this.retryAfterSeconds,
    );
  }

  /** Waits for the running and queued validations, then stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  /** Stops the threads at once; validations in flight fail. */
  async destroy(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }
}

/**
 * The validated assertion as node-saml's `getAssertion` gives it: its XML read by xml2js with
 * node-saml's settings (xml2js calls back before `parseString` returns).
 */
function readAssertion(xml: string): Record<string, unknown> {
  let read: Record<string, unknown> | undefined;
  let failure: unknown;
  new Parser({
    explicitRoot: true,
    explicitCharkey: true,
    tagNameProcessors: [processors.stripPrefix],
  }).parseString(xml, (error: unknown, value: Record<string, unknown>) => {
    failure = error;
    read = value;
  });
  if (failure || !read) throw failure ?? new Error('The validated assertion could not be read again.');
  return read;
}

/** A worker's error as the class, code and message it had there (a cache failure as the original). */
function rebuild(error: SerializedError, failures: readonly unknown[]): Error {
  switch (error.kind) {
    case 'cache': {
      const original = failures[error.failure ?? -1];
      return original instanceof Error ? original : new Error(String(original ?? error.message));
    }
    case 'jit':
      return new JitError(error.code as JitErrorCode, error.message, {
        ...(error.details ? { details: error.details } : {}),
        ...(error.hint ? { hint: error.hint } : {}),
        ...(error.cause === undefined ? {} : { cause: error.cause }),
      });
    case 'status':
      return new SamlStatusError(error.message, error.xmlStatus ?? '');
    default: {
      const rebuilt = new Error(error.message);
      rebuilt.name = error.name;
      return rebuilt;
    }
  }
}
