import { randomBytes } from 'node:crypto';
import type { SessionData, Store } from 'express-session';
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { ConfigurationError, StoreError } from '@jit-sso/core';
import { MemoryReplayCache, RedisReplayCache, type ReplayCache } from '@jit-sso/express';

/** What every copy of the app must share for a sign-in to work on any of them. */
export interface SharedState {
  /** The session store; `null` is express-session's memory store (one process only). */
  readonly sessionStore: Store | null;
  /** The SAML replay cache: request ids, login bindings and used assertions. */
  readonly replayCache: ReplayCache;
  /** The session cookie's signing secret. */
  readonly sessionSecret: string;
  close(): Promise<void>;
}

/** Issued secrets are 256-bit random; a chosen one must at least be long. */
const MIN_SECRET_LENGTH = 32;
const SESSION_PREFIX = 'jit-sample:sess:';
const SECRET_KEY = 'jit-sample:session-secret';

function chosenSecret(secret: string | undefined): string | undefined {
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigurationError(
      `SESSION_SECRET must be at least ${MIN_SECRET_LENGTH} characters (a guessable secret lets anyone forge a session cookie); leave it unset for a random one.`,
    );
  }
  return secret || undefined;
}

// connect-redis's own callback type: `data` is a session, a count or a list, by method.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type SessionCallback = (error?: unknown, data?: any) => unknown;

/**
 * connect-redis, whose failures are `STORE_FAILURE` (503, logged with the cause) instead of an
 * unexplained 500: the store answers express-session through these four.
 */
class SessionStore extends RedisStore {
  private static failClosed(cb?: SessionCallback): SessionCallback | undefined {
    return (
      cb &&
      ((error, data) =>
        cb(error ? new StoreError('The session store (Redis) did not answer.', error) : error, data))
    );
  }
  override get(sid: string, cb?: SessionCallback) {
    return super.get(sid, SessionStore.failClosed(cb));
  }
  override set(sid: string, session: SessionData, cb?: SessionCallback) {
    return super.set(sid, session, SessionStore.failClosed(cb));
  }
  override touch(sid: string, session: SessionData, cb?: SessionCallback) {
    return super.touch(sid, session, SessionStore.failClosed(cb));
  }
  override destroy(sid: string, cb?: SessionCallback) {
    return super.destroy(sid, SessionStore.failClosed(cb));
  }
}

/** One warning per outage, not one per reconnection attempt. */
function warnOncePerOutage(name: string) {
  let down = false;
  return {
    error: (error: Error) => {
      if (down) return;
      down = true;
      console.warn(`${name}: ${error.message}; retrying.`);
    },
    ready: () => {
      down = false;
    },
  };
}

/** A URL with its password masked, for the log. */
export const redact = (url: string) => url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');

/**
 * Without `redisUrl`: sessions in memory, a memory replay cache and a random secret, right for one
 * process. With it, every copy of the app shares them through Redis: sessions in connect-redis (on a
 * node-redis client, the client it is built for), the replay cache in `RedisReplayCache` (on an
 * ioredis client, whose connection state lets a login fail fast while Redis is down), and the cookie
 * secret: `SESSION_SECRET`, else one random secret that the first copy stores in Redis for the others.
 */
export async function sharedState(options: {
  redisUrl?: string;
  sessionSecret?: string;
}): Promise<SharedState> {
  const chosen = chosenSecret(options.sessionSecret);
  const { redisUrl } = options;
  if (!redisUrl) {
    return {
      sessionStore: null,
      replayCache: new MemoryReplayCache(),
      sessionSecret: chosen ?? randomBytes(32).toString('base64url'),
      close: async () => undefined,
    };
  }
  if (!/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigurationError(
      `REDIS_URL must be a redis:// or rediss:// URL, such as redis://127.0.0.1:6379, not "${redact(redisUrl)}".`,
    );
  }

  let connected = false;
  const sessionsLog = warnOncePerOutage('Redis (sessions)');
  const sessions = createClient({
    url: redisUrl,
    // While Redis is down a request fails at once instead of waiting for the reconnection.
    disableOfflineQueue: true,
    socket: {
      // At start an unreachable Redis is an error to report; once running, reconnect.
      reconnectStrategy: (retries, cause) => (connected ? Math.min(100 * retries, 2000) : cause),
    },
  });
  sessions.on('error', sessionsLog.error).on('ready', sessionsLog.ready);
  try {
    await sessions.connect();
  } catch (error) {
    sessions.destroy();
    throw new StoreError(`Redis at REDIS_URL (${redact(redisUrl)}) did not answer.`, error);
  }
  connected = true;

  const replayLog = warnOncePerOutage('Redis (replay cache)');
  const replay = new Redis(redisUrl);
  replay.on('error', replayLog.error).on('ready', replayLog.ready);
  const close = async () => {
    replay.disconnect();
    sessions.destroy();
  };
  try {
    let sessionSecret = chosen;
    if (!sessionSecret) {
      await sessions.set(SECRET_KEY, randomBytes(32).toString('base64url'), { condition: 'NX' });
      sessionSecret = (await sessions.get(SECRET_KEY)) ?? undefined;
      if (!sessionSecret) throw new Error(`${SECRET_KEY} vanished from Redis.`);
    }
    return {
      sessionStore: new SessionStore({ client: sessions, prefix: SESSION_PREFIX }),
      replayCache: new RedisReplayCache(replay),
      sessionSecret,
      close,
    };
  } catch (error) {
    await close();
    throw new StoreError(`Redis at REDIS_URL (${redact(redisUrl)}) did not answer.`, error);
  }
}
