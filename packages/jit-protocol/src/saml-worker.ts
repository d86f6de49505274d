/**
 * The worker side of `SamlValidationPool`: node-saml's validation of a posted SAML response and the
 * checks of `checkSamlAssertion`, on a worker thread. The replay cache stays on the main thread:
 * node-saml's request-id look-ups (`validateInResponseTo`) are sent there over the task's port.
 * What comes back is structured-cloneable: the profile without its functions, the checked facts,
 * and errors as plain records that the main thread rebuilds into the same classes.
 */
import type { MessagePort } from 'node:worker_threads';
import { SAML, type CacheProvider, type Profile, type SamlConfig } from '@node-saml/node-saml';
import { checkSamlAssertion, type CheckedAssertion, type SamlExpectations } from './saml-checks.js';

/** A cache operation asked of the main thread. */
export interface CacheCall {
  id: number;
  op: 'saveAsync' | 'getAsync' | 'removeAsync';
  key: string | null;
  value?: string;
}

/** The main thread's answer: the value, or the index of the error it keeps. */
export interface CacheAnswer {
  id: number;
  value?: unknown;
  failure?: number;
}

export interface ValidationTask {
  /** node-saml's options without `cacheProvider`. */
  config: Omit<SamlConfig, 'cacheProvider'>;
  samlResponse: string;
  expect: SamlExpectations;
  port: MessagePort;
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
      assertion?: Record<string, unknown>;
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

function remoteCache(port: MessagePort): CacheProvider {
  let next = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  port.on('message', (answer: CacheAnswer) => {
    const call = waiting.get(answer.id);
    if (!call) return;
    waiting.delete(answer.id);
    if (answer.failure !== undefined) call.reject(new RemoteCacheError(answer.failure));
    else call.resolve(answer.value);
  });
  const ask = <T>(op: CacheCall['op'], key: string | null, value?: string) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const call: CacheCall = { id, op, key, ...(value === undefined ? {} : { value }) };
      port.postMessage(call);
    });
  return {
    saveAsync: (key, value) => ask('saveAsync', key, value),
    getAsync: (key) => ask('getAsync', key),
    removeAsync: (key) => ask('removeAsync', key),
  };
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
  const { port } = task;
  try {
    const saml = new SAML({ ...(task.config as SamlConfig), cacheProvider: remoteCache(port) });
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
      ...(getAssertion ? { assertion: getAssertion() } : {}),
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
  } finally {
    port.close();
  }
}
