import { createHash } from 'node:crypto';
import { JitError, StoreError } from '@jit-sso/core';

/**
 * The cache node-saml keeps its AuthnRequest ids in (`validateInResponseTo: 'always'`), plus an atomic
 * `consume` that lets one copy of a message through and refuses every other, also when copies arrive at
 * the same moment in different processes. Implementations: `RedisReplayCache` (shared, `SET NX PX`) and
 * `MemoryReplayCache` (single process only).
 */
export interface ReplayCache {
  /** node-saml's `CacheProvider`: remember a request id. */
  saveAsync(key: string, value: string): Promise<{ value: string; createdAt: number } | null>;
  getAsync(key: string): Promise<string | null>;
  removeAsync(key: string | null): Promise<string | null>;
  /** True for the first caller with this key within `ttlMs`, false for every later one. */
  consume(key: string, ttlMs: number): Promise<boolean>;
}

/** The subset of an ioredis (or node-redis v4 legacy-mode) client the cache uses. */
export interface RedisClientLike {
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<'OK' | null | string>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<number>;
  /** ioredis's connection state (`ready`, `connecting`, `reconnecting`, `end`...). */
  readonly status?: string;
}

export interface ReplayCacheOptions {
  /** How long a request id stays valid (default 10 minutes, node-saml's `requestIdExpirationPeriodMs`). */
  requestTtlMs?: number;
}

export interface RedisReplayCacheOptions extends ReplayCacheOptions {
  /**
   * How long one command may take before the sign-in fails with a 503 (default 500 ms; a healthy
   * Redis answers in about a millisecond). A client that lost its connection fails at once: a command
   * is never left in ioredis's offline queue, where it would hold the login for the client's whole
   * retry schedule.
   */
  commandTimeoutMs?: number;
}

const DEFAULT_REQUEST_TTL = 10 * 60_000;
const DEFAULT_COMMAND_TIMEOUT = 500;
/** ioredis states in which a command would only wait in the offline queue for a reconnection. */
const DISCONNECTED = new Set(['reconnecting', 'close', 'end']);

function assertTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new JitError('INVALID_CONFIGURATION', 'A replay TTL must be a positive number of milliseconds.');
  return Math.ceil(ttlMs);
}

/** A replay cache in Redis: atomic across processes (`SET key value PX ttl NX`). */
export class RedisReplayCache implements ReplayCache {
  private readonly requestTtlMs: number;
  private readonly commandTimeoutMs: number;
  constructor(
    private readonly client: RedisClientLike,
    private readonly prefix = 'jit-sso:saml:',
    options: RedisReplayCacheOptions = {},
  ) {
    this.requestTtlMs = assertTtl(options.requestTtlMs ?? DEFAULT_REQUEST_TTL);
    this.commandTimeoutMs = assertTtl(options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT);
  }

  // A Redis outage is an infrastructure failure (503), not a bad response; it fails closed, quickly.
  private async call<T>(work: () => Promise<T>): Promise<T> {
    const status = this.client.status;
    if (status !== undefined && DISCONNECTED.has(status)) {
      throw new StoreError(
        'The replay cache (Redis) did not answer during sign-in.',
        new Error(`Redis is not connected (status "${status}").`),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${this.commandTimeoutMs} ms.`)),
        this.commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([work(), timeout]);
    } catch (error) {
      throw new StoreError('The replay cache (Redis) did not answer during sign-in.', error);
    } finally {
      clearTimeout(timer);
    }
  }

  async saveAsync(key: string, value: string) {
    const ok = await this.call(() =>
      this.client.set(`${this.prefix}req:${key}`, value, 'PX', this.requestTtlMs, 'NX'),
    );
    return ok === 'OK' ? { value, createdAt: Date.now() } : null;
  }

  getAsync(key: string) {
    return this.call(() => this.client.get(`${this.prefix}req:${key}`));
  }

  async removeAsync(key: string | null) {
    if (key === null) return null;
    const value = await this.getAsync(key);
    await this.call(() => this.client.del(`${this.prefix}req:${key}`));
    return value;
  }

  async consume(key: string, ttlMs: number) {
    const ttl = assertTtl(ttlMs);
    const ok = await this.call(() =>
      this.client.set(`${this.prefix}used:${digest(key)}`, '1', 'PX', ttl, 'NX'),
    );
    return ok === 'OK';
  }
}

/** A replay cache in this process's memory: correct only for an app that runs as one process. */
export class MemoryReplayCache implements ReplayCache {
  private readonly entries = new Map<string, { value: string; createdAt: number; expiresAt: number }>();
  private readonly requestTtlMs: number;
  constructor(
    options: ReplayCacheOptions & { now?: () => number } = {},
    private readonly now: () => number = options.now ?? Date.now,
  ) {
    this.requestTtlMs = assertTtl(options.requestTtlMs ?? DEFAULT_REQUEST_TTL);
  }

  private live(key: string) {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep() {
    if (this.entries.size < 10_000) return;
    for (const key of [...this.entries.keys()]) this.live(key);
  }

  async saveAsync(key: string, value: string) {
    if (this.live(`req:${key}`)) return null;
    this.sweep();
    const createdAt = this.now();
    this.entries.set(`req:${key}`, { value, createdAt, expiresAt: createdAt + this.requestTtlMs });
    return { value, createdAt };
  }

  async getAsync(key: string) {
    return this.live(`req:${key}`)?.value ?? null;
  }

  async removeAsync(key: string | null) {
    if (key === null) return null;
    const value = this.live(`req:${key}`)?.value ?? null;
    this.entries.delete(`req:${key}`);
    return value;
  }

  async consume(key: string, ttlMs: number) {
    const id = `used:${digest(key)}`;
    if (this.live(id)) return false;
    this.sweep();
    const at = this.now();
    this.entries.set(id, { value: '1', createdAt: at, expiresAt: at + assertTtl(ttlMs) });
    return true;
  }
}

function digest(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

/**
 * Consumes an assertion id once per (issuer, id) until its NotOnOrAfter (at least `minTtlMs`), and the
 * AuthnRequest id it answers once, so that neither a copied response nor a second response to the same
 * request is accepted. Throws `SAML_REPLAY`; resolves to how long the assertion stays refused (ms).
 */
export async function consumeAssertion(
  cache: ReplayCache,
  assertion: { issuer: string; assertionId: string; notOnOrAfter: Date | null; inResponseTo: string | null },
  options: { now?: number; minTtlMs?: number; clockSkewMs?: number } = {},
): Promise<number> {
  const now = options.now ?? Date.now();
  const minTtl = options.minTtlMs ?? 5 * 60_000;
  const until = assertion.notOnOrAfter ? assertion.notOnOrAfter.getTime() + (options.clockSkewMs ?? 0) : 0;
  const ttl = Math.max(until - now, minTtl);
  const replayed = () =>
    new JitError('SAML_REPLAY', 'This SAML response has already been used.', {
      details: { issuer: assertion.issuer },
    });
  if (!(await cache.consume(`assertion\n${assertion.issuer}\n${assertion.assertionId}`, ttl)))
    throw replayed();
  if (
    assertion.inResponseTo &&
    !(await cache.consume(`request\n${assertion.issuer}\n${assertion.inResponseTo}`, ttl))
  ) {
    throw replayed();
  }
  return ttl;
}
