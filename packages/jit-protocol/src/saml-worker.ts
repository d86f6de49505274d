/**
 * The worker side of `SamlValidationPool`: node-saml's validation of a posted SAML response and the
 * checks of `checkSamlAssertion`, on a worker thread. The replay cache stays on the main thread:
 * node-saml's request-id look-ups (`validateInResponseTo`) are sent there over one port per thread,
 * opened when the thread loads this module, each call naming its task. A connection's node-saml
 * options cross once per thread: a task names them by key, and the thread asks the main thread for
 * options it has not kept yet. What comes back is structured-cloneable: the profile without its
 * functions, the checked facts, and errors as plain records that the main thread rebuilds into the
 * same classes.
 */
import { getPriority, setPriority } from 'node:os';
import { MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { SAML, type CacheProvider, type Profile, type SamlConfig } from '@node-saml/node-saml';
import { checkSamlAssertion, type CheckedAssertion, type SamlExpectations } from './saml-checks.js';

/** node-saml's options without `cacheProvider`, as they cross to a thread. */
export type CloneableSamlConfig = Omit<SamlConfig, 'cacheProvider'>;

/** The message a thread sends to the pool when it starts: the port of its calls to the main thread. */
export const CALLS_PORT = 'jitSamlValidationCalls';

/** A call of a task to the main thread: a cache operation, or the task's node-saml options. */
export interface MainThreadCall {
  /** The task's id (`ValidationTask.id`). */
  task: number;
  /** The call's id on its thread, echoed by the answer. */
  id: number;
  op: 'saveAsync' | 'getAsync' | 'removeAsync' | 'config';
  key?: string | null;
  value?: string;
}

/** The main thread's answer: the value, or the index of the error it keeps for the task. */
export interface MainThreadAnswer {
  id: number;
  value?: unknown;
  failure?: number;
}

export interface ValidationTask {
  /** Routes the task's calls on the main thread. */
  id: number;
  /**
   * Names the task's node-saml options: the same key always means the same options, so a thread
   * keeps them and asks for them (`config` call) only when it has not got them yet.
   */
  configKey?: string;
  /** The options themselves, for options without a key. */
  config?: CloneableSamlConfig;
  samlResponse: string;
  expect: SamlExpectations;
}

/** An error as it crosses back: enough to rebuild the same class, code and message. */
export interface SerializedError {
  kind: 'jit' | 'status' | 'error' | 'cache';
  name: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
  hint?: string;
  cause?: string;
  xmlStatus?: string;
  /** For `cache`: which of the main thread's cache failures it is. */
  failure?: number;
}

export type PlainProfile = Omit<Profile, 'getAssertionXml' | 'getAssertion' | 'getSamlResponseXml'>;

export type ValidationResult =
  | {
      ok: true;
      loggedOut: boolean;
      profile: PlainProfile | null;
      assertionXml?: string;
      samlResponseXml?: string;
      /**
       * node-saml's profile had `getAssertion`: its value (the assertion XML as xml2js reads it) is
       * rebuilt from `assertionXml` on the main thread when asked for, rather than cloned.
       */
      assertion?: true;
      checked?: CheckedAssertion;
      checkError?: SerializedError;
    }
  | { ok: false; error: SerializedError };

const CACHE_FAILURE = Symbol('cache failure');

class RemoteCacheError extends Error {
  readonly [CACHE_FAILURE]: number;
  constructor(failure: number) {
    super('The replay cache failed on the main thread.');
    this[CACHE_FAILURE] = failure;
  }
}

/** What the pool tells each thread when it starts (piscina's `workerData`). */
export interface ValidationThreadData {
  /** How much to lower this thread's priority (`SamlValidationPoolOptions.niceIncrement`). */
  niceIncrement: number;
}

// On Linux a thread has a priority of its own: lower this one's. Elsewhere the call would lower
// the whole process's, so it is not made.
const nice = (workerData as Partial<ValidationThreadData> | undefined)?.niceIncrement ?? 0;
if (parentPort && nice > 0 && process.platform === 'linux') {
  try {
    setPriority(Math.min(19, getPriority() + nice));
  } catch {
    // A priority is a preference: the thread validates at the one it has.
  }
}

type Waiting = { resolve(v: unknown): void; reject(e: Error): void };

/** This thread's calls to the main thread, over its own port (made when the module loads). */
const calls = (() => {
  if (!parentPort) return null;
  const { port1: port, port2 } = new MessageChannel();
  parentPort.postMessage({ [CALLS_PORT]: port2 }, [port2]);
  // Only a task in progress waits for an answer; piscina's own port keeps the thread alive.
  port.unref();
  let next = 0;
  const waiting = new Map<number, Waiting>();
  port.on('message', (answer: MainThreadAnswer) => {
    const call = waiting.get(answer.id);
    if (!call) return;
    waiting.delete(answer.id);
    if (answer.failure !== undefined) call.reject(new RemoteCacheError(answer.failure));
    else call.resolve(answer.value);
  });
  return <T>(task: number, op: MainThreadCall['op'], key?: string | null, value?: string) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const call: MainThreadCall = {
        task,
        id,
        op,
        ...(key === undefined ? {} : { key }),
        ...(value === undefined ? {} : { value }),
      };
      port.postMessage(call);
    });
})();

function mainThread() {
  if (!calls) throw new Error('The SAML validation worker runs on a worker thread of SamlValidationPool.');
  return calls;
}

function remoteCache(task: number): CacheProvider {
  const ask = mainThread();
  return {
    saveAsync: (key, value) => ask(task, 'saveAsync', key, value),
    getAsync: (key) => ask(task, 'getAsync', key),
    removeAsync: (key) => ask(task, 'removeAsync', key),
  };
}

/** The node-saml options this thread was sent, by key; the least recently used go first. */
const KEPT_CONFIGS = 256;
const configs = new Map<string, CloneableSamlConfig>();

async function configOf(task: ValidationTask): Promise<CloneableSamlConfig> {
  if (task.config) return task.config;
  const key = task.configKey;
  if (key === undefined) throw new Error('The validation task carries no node-saml options.');
  let config = configs.get(key);
  if (config) {
    configs.delete(key);
  } else {
    config = await mainThread()<CloneableSamlConfig>(task.id, 'config');
    if (configs.size >= KEPT_CONFIGS) configs.delete(configs.keys().next().value!);
  }
  configs.set(key, config);
  return config;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof RemoteCacheError) {
    return { kind: 'cache', name: error.name, message: error.message, failure: error[CACHE_FAILURE] };
  }
  if (!(error instanceof Error)) return { kind: 'error', name: 'Error', message: String(error) };
  const fields = error as Error & {
    code?: unknown;
    details?: Record<string, unknown>;
    hint?: unknown;
    xmlStatus?: unknown;
  };
  // A JitError of this thread's copy of @jit-sso/core: its code and hint say so.
  if (typeof fields.code === 'string' && typeof fields.hint === 'string') {
    return {
      kind: 'jit',
      name: error.name,
      message: error.message,
      code: fields.code,
      hint: fields.hint,
      details: { ...fields.details },
      ...(error.cause === undefined ? {} : { cause: String(error.cause) }),
    };
  }
  if (typeof fields.xmlStatus === 'string') {
    return { kind: 'status', name: error.name, message: error.message, xmlStatus: fields.xmlStatus };
  }
  return { kind: 'error', name: error.name, message: error.message };
}

/** The task piscina runs: validate, check, and hand back plain data. */
export async function validateSamlResponse(task: ValidationTask): Promise<ValidationResult> {
  try {
    const config = await configOf(task);
    const saml = new SAML({ ...(config as SamlConfig), cacheProvider: remoteCache(task.id) });
    const { profile, loggedOut } = await saml.validatePostResponseAsync({
      SAMLResponse: task.samlResponse,
    });
    if (!profile) return { ok: true, loggedOut, profile: null };
    const { getAssertionXml, getAssertion, getSamlResponseXml, ...plain } = profile;
    const result: ValidationResult = {
      ok: true,
      loggedOut,
      profile: plain,
      ...(getAssertionXml ? { assertionXml: getAssertionXml() } : {}),
      ...(getSamlResponseXml ? { samlResponseXml: getSamlResponseXml() } : {}),
      ...(getAssertion ? { assertion: true as const } : {}),
    };
    if (!loggedOut) {
      try {
        result.checked = checkSamlAssertion(profile, task.expect);
      } catch (error) {
        result.checkError = serializeError(error);
      }
    }
    return result;
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}
