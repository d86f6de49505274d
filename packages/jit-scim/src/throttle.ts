import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Limits failed SCIM authentications per key (a client address, a tenant), so that bearer tokens
 * cannot be guessed at the speed of the network. Only failures count: a client that sends its
 * valid token is never slowed down by another client's failures.
 */
export interface ScimAuthThrottle {
  /** How long `key` must wait before it may try to authenticate again (0: it may now). */
  blockedFor(key: string): Promise<number>;
  /**
   * Records a failed attempt of `key`. `blockedForMs` is how long it must now wait (0: not yet
   * limited); `started` is true for the one failure that began this block (the burst is reported once).
   */
  fail(key: string): Promise<{ blockedForMs: number; started: boolean }>;
}

/** The subset of an ioredis client rate-limiter-flexible uses. */
export type ThrottleRedisClient = ConstructorParameters<typeof RateLimiterRedis>[0]['storeClient'];

export interface ScimAuthThrottleOptions {
  /**
   * Shares the counts between all copies of the app (ioredis). Without it, counts live in this
   * process: each copy then allows its own budget. When Redis fails, each process falls back to
   * its own memory until Redis answers again (the limit weakens, authentication keeps working).
   */
  redis?: ThrottleRedisClient;
  /** Failed attempts allowed per key within `windowSeconds` (default 20). */
  failures?: number;
  /** The window in which failures are counted (default 60 s). */
  windowSeconds?: number;
  /** How long a key that went over the limit is refused (default 300 s). */
  blockSeconds?: number;
  /** Prefix of the keys in Redis (default `jit-sso:scim-auth`). */
  keyPrefix?: string;
}

/** A throttle on rate-limiter-flexible: in Redis (shared across instances) or in memory. */
export function createScimAuthThrottle(options: ScimAuthThrottleOptions = {}): ScimAuthThrottle {
  const failures = options.failures ?? 20;
  const settings = {
    points: failures,
    duration: options.windowSeconds ?? 60,
    blockDuration: options.blockSeconds ?? 300,
    keyPrefix: options.keyPrefix ?? 'jit-sso:scim-auth',
  };
  if (!(Number.isInteger(failures) && failures > 0))
    throw new TypeError('createScimAuthThrottle: failures must be a positive integer.');
  const limiter = options.redis
    ? new RateLimiterRedis({
        ...settings,
        storeClient: options.redis,
        // A Redis that is down must neither hang SCIM nor fail it: this process's memory stands in.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(settings),
      })
    : new RateLimiterMemory(settings);
  return {
    async blockedFor(key) {
      const state = await limiter.get(key);
      return state && state.consumedPoints > failures ? state.msBeforeNext : 0;
    },
    async fail(key) {
      try {
        await limiter.consume(key);
        return { blockedForMs: 0, started: false };
      } catch (outcome) {
        if (!(outcome instanceof RateLimiterRes)) throw outcome;
        return { blockedForMs: outcome.msBeforeNext, started: outcome.consumedPoints === failures + 1 };
      }
    },
  };
}
