import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { SamlStatusError, type Profile, type SamlConfig } from '@node-saml/node-saml';
import { ConfigurationError, JitError, ServerBusyError, type JitErrorCode } from '@jit-sso/core';
import { moduleUrl } from './module-url.js';
import type { SamlExpectations } from './saml-checks.js';
import { expectationsOf, keepPrecheck } from './saml-precheck.js';
import type {
  CacheAnswer,
  CacheCall,
  SerializedError,
  ValidationResult,
  ValidationTask,
} from './saml-worker.js';

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
 * The worker module in `dir` (beside this one): compiled (`.js`), or the workspace's TypeScript
 * source, run through tsx with the `source` export condition. `INVALID_CONFIGURATION` when missing.
 */
export function findSamlWorker(dir = moduleDir): { filename: string; execArgv: string[] } {
  const moduleDir = dir;
  const compiled = join(moduleDir, `${WORKER}.js`);
  if (existsSync(compiled)) return { filename: compiled, execArgv: [] };
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
      execArgv: ['--conditions=source', '--import', pathToFileURL(tsx).href],
    };
  }
  throw new ConfigurationError(
    `The SAML validation worker (${compiled}) is missing from @jit-sso/protocol; reinstall the package, or validate in-process (leave out samlValidationPool).`,
  );
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigurationError(`SamlValidationPool: ${name} must be a positive integer.`);
  }
  return value;
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
  private readonly worker: { filename: string; execArgv: string[] };
  private pool: Piscina | null = null;
  private closed = false;
  private validations = 0;

  constructor(options: SamlValidationPoolOptions = {}) {
    this.threads = positiveInteger(options.threads, Math.max(1, availableParallelism() - 1), 'threads');
    this.maxQueue = positiveInteger(options.maxQueue, 256, 'maxQueue');
    this.retryAfterSeconds = positiveInteger(options.retryAfterSeconds, 2, 'retryAfterSeconds');
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
    this.pool ??= new Piscina({
      filename: this.worker.filename,
      name: 'validateSamlResponse',
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: this.maxQueue,
      // A validation waits for the main thread's answers to its cache look-ups; meanwhile the
      // thread validates another response instead of idling.
      concurrentTasksPerWorker: 4,
      idleTimeout: Infinity,
      execArgv: [...process.execArgv, ...this.worker.execArgv],
    });
    return this.pool;
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
    const failures: unknown[] = [];
    const channel = new MessageChannel();
    channel.port1.on('message', (call: CacheCall) => {
      const answer = (value: unknown) => channel.port1.postMessage({ id: call.id, value } as CacheAnswer);
      const fail = (error: unknown) =>
        channel.port1.postMessage({ id: call.id, failure: failures.push(error) - 1 } as CacheAnswer);
      if (!cacheProvider) return fail(new Error('node-saml has no cacheProvider.'));
      let pending: Promise<unknown>;
      try {
        pending =
          call.op === 'saveAsync'
            ? cacheProvider.saveAsync(call.key!, call.value!)
            : call.op === 'getAsync'
              ? cacheProvider.getAsync(call.key!)
              : cacheProvider.removeAsync(call.key);
      } catch (error) {
        return fail(error);
      }
      pending.then(answer, fail);
    });
    const task: ValidationTask = {
      config: cloneable,
      samlResponse: String(container.SAMLResponse ?? ''),
      expect: { idpEntityId: expect.idpEntityId, acsUrl: expect.acsUrl, allowSha1: !!expect.allowSha1 },
      port: channel.port2,
    };
    let result: ValidationResult;
    try {
      result = (await pool.run(task, { transferList: [channel.port2] })) as ValidationResult;
      this.validations++;
    } catch (error) {
      if (error instanceof Error && /queue is at limit/i.test(error.message)) throw this.busy();
      // The worker did not run the task (it could not load, or it died): a server failure (500,
      // logged with its cause), not a refusal of the response.
      throw new ConfigurationError('The SAML validation worker failed; see the cause.', { cause: error });
    } finally {
      channel.port1.close();
    }
    if (!result.ok) throw rebuild(result.error, failures);
    if (!result.profile) return { profile: null, loggedOut: result.loggedOut };
    const { assertionXml, samlResponseXml, assertion } = result;
    const profile = {
      ...result.profile,
      ...(assertionXml === undefined ? {} : { getAssertionXml: () => assertionXml }),
      ...(samlResponseXml === undefined ? {} : { getSamlResponseXml: () => samlResponseXml }),
      ...(assertion === undefined ? {} : { getAssertion: () => assertion }),
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
