import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { SAML, type SamlConfig } from '@node-saml/node-saml';
import {
  changeConfiguration,
  ConfigurationError,
  createProvisioner,
  JitError,
  MemoryConfigurationStore,
  MemoryStore,
  ServerBusyError,
  StoreError,
  type Connection,
} from '@jit-sso/core';
import { storedConnection } from '@jit-sso/core/testing';
import {
  answerRefusal,
  MemoryReplayCache,
  samlOptionsFor,
  SamlValidationPool,
  toProtocolError,
  type ReplayCache,
} from '../src/index.js';
import { findSamlWorker } from '../src/saml-pool.js';

// The pool runs node-saml and the checks on a worker thread; what a login sees of a refusal (the
// error's class, message and the code it maps to) must be the same as in-process. The signed
// responses of real logins are covered by the end-to-end suite, which runs in both modes.

const cert = readFileSync(new URL('./fixtures/idp-cert.pem', import.meta.url), 'utf8');
const connection = Object.freeze({
  id: 'acme-saml',
  tenantId: 'acme',
  protocol: 'saml',
  issuer: 'https://idp.test/metadata',
  jit: {},
  protocolOptions: {
    saml: {
      entryPoint: 'https://idp.test/sso',
      idpCert: cert,
      spEntityId: 'https://app.test/metadata',
      acsUrl: 'https://app.test/acs',
    },
  },
}) as unknown as Connection;

const encode = (xml: string) => Buffer.from(xml).toString('base64');
const response = (inResponseTo?: string) =>
  encode(
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0"` +
      `${inResponseTo ? ` InResponseTo="${inResponseTo}"` : ''}>` +
      `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1"/></samlp:Response>`,
  );

async function outcome(
  run: () => Promise<unknown>,
): Promise<{ name: string; message: string; code: string }> {
  try {
    await run();
  } catch (error) {
    const e = error as Error;
    return { name: e.name, message: e.message, code: toProtocolError(e, 'saml').code };
  }
  throw new Error('validation passed');
}

describe('SamlValidationPool', () => {
  const pool = new SamlValidationPool({ threads: 1 });
  afterAll(() => pool.close());

  async function both(cache: ReplayCache, samlResponse: string) {
    const config = samlOptionsFor(connection, cache);
    const inProcess = await outcome(() =>
      new SAML(config).validatePostResponseAsync({ SAMLResponse: samlResponse }),
    );
    const pooled = await outcome(() => pool.validatePostResponse(config, { SAMLResponse: samlResponse }));
    return { inProcess, pooled };
  }

  it.each([
    ['no InResponseTo', response()],
    ['an unknown InResponseTo', response('_unknown')],
    ['text that is not XML', encode('not xml at all')],
  ])('refuses %s with the same error as in-process', async (_name, samlResponse) => {
    const { inProcess, pooled } = await both(new MemoryReplayCache(), samlResponse);
    expect(pooled).toEqual(inProcess);
  });

  it('asks the main thread’s cache for the request id, and node-saml removes it after a refusal', async () => {
    for (const mode of ['in-process', 'pool'] as const) {
      const cache = new MemoryReplayCache();
      await cache.saveAsync('_req1', new Date().toISOString());
      const config = samlOptionsFor(connection, cache);
      const run = () =>
        mode === 'pool'
          ? pool.validatePostResponse(config, { SAMLResponse: response('_req1') })
          : new SAML(config).validatePostResponseAsync({ SAMLResponse: response('_req1') });
      expect(await outcome(run), mode).toEqual({
        name: 'Error',
        message: 'Invalid document signature',
        code: 'SAML_RESPONSE_INVALID',
      });
      expect(await cache.getAsync('_req1'), mode).toBeNull();
    }
  });

  it('hands back the very error of a failing replay cache (STORE_FAILURE, 503)', async () => {
    const outage = new StoreError('The replay cache (Redis) did not answer during sign-in.');
    const cache = new MemoryReplayCache();
    cache.getAsync = () => Promise.reject(outage);
    const config = samlOptionsFor(connection, cache);
    const error = await pool
      .validatePostResponse(config, { SAMLResponse: response('_req1') })
      .catch((e: unknown) => e);
    expect(error).toBe(outage);
    const inProcess = await new SAML(config)
      .validatePostResponseAsync({ SAMLResponse: response('_req1') })
      .catch((e: unknown) => e);
    expect(inProcess).toBe(outage);
  });

  it('validates with a stored connection’s new options at the first login after it changed', async () => {
    // One thread keeps each connection's options after its first login; a changed connection must
    // not be validated with the options it kept. Without InResponseTo, a connection that refuses
    // IdP-initiated logins stops at the missing request id, one that accepts them at the signature.
    const store = new MemoryConfigurationStore();
    const saml = (allowIdpInitiated: boolean) => ({
      protocol: 'saml' as const,
      issuer: 'https://idp.test/metadata',
      protocolOptions: { saml: { ...connection.protocolOptions['saml']!, allowIdpInitiated } },
    });
    const save = (allowIdpInitiated: boolean) =>
      changeConfiguration(
        store,
        { tenantId: 'acme', actor: 'ops', action: 'connection.updated', target: 'acme-saml' },
        async (tx, version) => {
          await tx.putConnection(storedConnection('acme-saml', 'acme', version, saml(allowIdpInitiated)));
          return { result: null, changes: [] };
        },
      );
    await save(false);
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      configuration: { store, pollIntervalMs: 60_000 },
    });
    const single = new SamlValidationPool({ threads: 1 });
    try {
      const cache = new MemoryReplayCache();
      const login = async () => {
        const config = samlOptionsFor(await provisioner.getConnection('acme-saml'), cache);
        const pooled = await outcome(() => single.validatePostResponse(config, { SAMLResponse: response() }));
        const inProcess = await outcome(() =>
          new SAML(config).validatePostResponseAsync({ SAMLResponse: response() }),
        );
        expect(pooled).toEqual(inProcess);
        return pooled.message;
      };
      const refused = await login();
      expect(refused).toMatch(/InResponseTo/);
      // Kept by the thread: the same answer again.
      expect(await login()).toBe(refused);

      await save(true);
      await provisioner.refreshConfiguration!();
      const changed = await login();
      expect(changed).not.toBe(refused);
      expect(changed).toMatch(/signature/i);

      await save(false);
      await provisioner.refreshConfiguration!();
      expect(await login()).toBe(refused);
    } finally {
      provisioner.close!();
      await single.close();
    }
  });

  it('validates options it was given by hand, without a key, as they are', async () => {
    const hand = { ...samlOptionsFor(connection, new MemoryReplayCache()) };
    const expect_ = { idpEntityId: 'https://idp.test/metadata', acsUrl: 'https://app.test/acs' };
    const first = await outcome(() => pool.validatePostResponse(hand, { SAMLResponse: response() }, expect_));
    expect(first.message).toMatch(/InResponseTo/);
    const ifPresent = { ...hand, validateInResponseTo: 'ifPresent' as SamlConfig['validateInResponseTo'] };
    const second = await outcome(() =>
      pool.validatePostResponse(ifPresent, { SAMLResponse: response() }, expect_),
    );
    expect(second.message).toMatch(/signature/i);
  });

  it('refuses at once with SERVER_BUSY (503, Retry-After) when its queue is full', async () => {
    const small = new SamlValidationPool({ threads: 1, maxQueue: 2, retryAfterSeconds: 3 });
    try {
      const config = samlOptionsFor(connection, new MemoryReplayCache());
      const results = await Promise.allSettled(
        Array.from({ length: 16 }, () => small.validatePostResponse(config, { SAMLResponse: response() })),
      );
      const busy = results.flatMap((r) =>
        r.status === 'rejected' && r.reason instanceof ServerBusyError ? [r.reason] : [],
      );
      const validated = results.filter(
        (r) => r.status === 'rejected' && !(r.reason instanceof ServerBusyError),
      ).length;
      // At most four running on the thread and two waiting: the others are refused without being queued.
      expect(validated).toBeGreaterThanOrEqual(1);
      expect(validated).toBeLessThanOrEqual(6);
      expect(busy.length).toBe(16 - validated);
      const refusal = busy[0]!;
      expect(refusal).toBeInstanceOf(JitError);
      expect(refusal.code).toBe('SERVER_BUSY');
      expect(refusal.httpStatus).toBe(503);
      const answer = answerRefusal(refusal, { json: true }, { logger: { error: () => undefined } as never });
      expect(answer.status).toBe(503);
      expect(answer.headers['Retry-After']).toBe('3');
    } finally {
      await small.close();
    }
  });

  it('fails with INVALID_CONFIGURATION (500), not a refusal, when the worker stops under a validation', async () => {
    const stopping = new SamlValidationPool({ threads: 1 });
    await stopping.warm();
    const config = samlOptionsFor(connection, new MemoryReplayCache());
    const pending = stopping
      .validatePostResponse(config, { SAMLResponse: response() })
      .catch((e: unknown) => e);
    await stopping.destroy();
    const error = await pending;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).httpStatus).toBe(500);
  });

  it.runIf(process.platform === 'linux')(
    'lowers its threads’ priority by niceIncrement, and only theirs (Linux)',
    async () => {
      const niceOf = () =>
        readdirSync('/proc/self/task').map((task) =>
          Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]),
        );
      const before = niceOf();
      const main = getPriority();
      const lowered = new SamlValidationPool({ threads: 2, niceIncrement: 7 });
      try {
        await lowered.warm();
        // The threads lower themselves as they load the worker; a validation shows they have.
        const config = samlOptionsFor(connection, new MemoryReplayCache());
        await Promise.allSettled(
          Array.from({ length: 4 }, () => lowered.validatePostResponse(config, { SAMLResponse: response() })),
        );
        const after = niceOf();
        expect(after.filter((n) => n === Math.min(19, main + 7)).length).toBe(
          before.filter((n) => n === Math.min(19, main + 7)).length + 2,
        );
        expect(getPriority()).toBe(main);
      } finally {
        await lowered.close();
      }
      expect(() => new SamlValidationPool({ niceIncrement: 20 })).toThrow(ConfigurationError);
      expect(() => new SamlValidationPool({ niceIncrement: -1 })).toThrow(ConfigurationError);
    },
  );

  it('starts its threads in a process run with V8 options, which a worker may not be given', async () => {
    // Compiled: no execArgv at all, so that each thread inherits the process's options.
    const dir = mkdtempSync(join(tmpdir(), 'jit-saml-worker-'));
    try {
      writeFileSync(join(dir, 'saml-worker.js'), '');
      expect(findSamlWorker(dir)).toEqual({ filename: join(dir, 'saml-worker.js') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // From source, in a process started as production apps often are.
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const index = pathToFileURL(new URL('../src/index.ts', import.meta.url).pathname).href;
    const script = `const { SamlValidationPool } = await import(${JSON.stringify(index)});
      const pool = new SamlValidationPool({ threads: 1 });
      await pool.warm();
      await pool.close();
      console.log('threads started');`;
    const child = await promisify(execFile)(
      process.execPath,
      [
        '--max-old-space-size=256',
        '--stack-trace-limit=40',
        '--conditions=source',
        '--import',
        tsx,
        '--input-type=module',
        '--eval',
        script,
      ],
      { timeout: 30_000 },
    );
    expect(child.stdout).toContain('threads started');

    // Threads Node refuses to start are the server's failure (500, logged), not a refused response.
    const refused = new SamlValidationPool({ threads: 1 });
    const worker = (refused as unknown as { worker: { filename: string; execArgv?: string[] } }).worker;
    worker.execArgv = ['--max-old-space-size=64'];
    const config = samlOptionsFor(connection, new MemoryReplayCache());
    const failure = await refused
      .validatePostResponse(config as SamlConfig, { SAMLResponse: response() })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as Error).message).toMatch(/could not be started/);
    expect(((failure as Error).cause as { code?: string }).code).toBe('ERR_WORKER_INVALID_EXEC_ARGV');
    expect(toProtocolError(failure, 'saml').code).toBe('INVALID_CONFIGURATION');
    await refused.close();
  }, 40_000);

  it('says which file is missing when the worker cannot be found, and refuses work once closed', async () => {
    expect(() => findSamlWorker(tmpdir())).toThrow(ConfigurationError);
    expect(() => findSamlWorker(tmpdir())).toThrow(/saml-worker\.js/);
    const closed = new SamlValidationPool({ threads: 1 });
    await closed.close();
    const config = samlOptionsFor(connection, new MemoryReplayCache());
    await expect(
      closed.validatePostResponse(config as SamlConfig, { SAMLResponse: response() }),
    ).rejects.toThrow(ConfigurationError);
  });
});
