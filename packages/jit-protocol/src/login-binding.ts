import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { JitError } from '@jit-sso/core';
import type { ReplayCache } from './replay-cache.js';
import type { SignInCookie } from './sign-in.js';

/**
 * Login CSRF defence for SP-initiated SAML: a login is completed only in the browser that started it,
 * and only on the connection that issued its request.
 *
 * At the start, the browser gets a random value in an HttpOnly cookie, and the SHA-256 of that value
 * is stored with the AuthnRequest id and the connection, for as long as node-saml keeps the id. At the
 * ACS, the response's (verified) `InResponseTo` must name a request of this connection whose stored
 * hash is the hash of the cookie this browser sent.
 *
 * The ACS POST comes from the IdP's page, cross-site, and a `SameSite=Lax` cookie is not sent on a
 * cross-site POST: over https the cookie is `SameSite=None; Secure` with the `__Host-` prefix (no
 * subdomain can set or shadow it). Over plain http a browser refuses `SameSite=None` without `Secure`,
 * so the cookie is `SameSite=Lax`, which only reaches an ACS posted from the same site (a local IdP
 * on `localhost` in development); a cross-site IdP needs the app on https.
 */

const COOKIE = 'jit-sso-login';
const SECURE_COOKIE = `__Host-${COOKIE}`;
const VALUE = /^[A-Za-z0-9_-]{43}$/;
/** As long as node-saml keeps a request id (`requestIdExpirationPeriodMs`, the replay cache's default). */
const LIFETIME_MS = 10 * 60_000;

const recordKey = (requestId: string) => `login:${requestId}`;
const digest = (value: string) => createHash('sha256').update(value).digest('hex');

interface LoginRecord {
  connectionId: string;
  browser: string;
}

/** Where a SAML strategy keeps its login bindings: the replay cache it gives node-saml. */
const stores = new WeakMap<object, ReplayCache>();

/**
 * Makes the sign-in flow bind the logins this strategy starts to the browser (the strategies of
 * `createSamlStrategy` and Nest's `JitSamlStrategy` are); `samlVerify` with the same cache checks it.
 */
export function bindLoginsOf<S extends object>(strategy: S, cache: ReplayCache | (() => ReplayCache)): S {
  stores.set(strategy, typeof cache === 'function' ? lazy(cache) : cache);
  return strategy;
}

function lazy(cache: () => ReplayCache): ReplayCache {
  return {
    saveAsync: (key, value) => cache().saveAsync(key, value),
    getAsync: (key) => cache().getAsync(key),
    removeAsync: (key) => cache().removeAsync(key),
    consume: (key, ttlMs) => cache().consume(key, ttlMs),
  };
}

/** The request headers of any passport-style request. */
function cookieOf(request: unknown, name: string): string | undefined {
  const header = (request as { headers?: Record<string, unknown> } | undefined)?.headers?.['cookie'];
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

function browserValue(request: unknown): string | undefined {
  const value = cookieOf(request, SECURE_COOKIE) ?? cookieOf(request, COOKIE);
  return value !== undefined && VALUE.test(value) ? value : undefined;
}

/** The id of the AuthnRequest in an HTTP-Redirect binding URL (node-saml's own, deflated and base64). */
function requestIdOf(location: string): string | null {
  const encoded = new URL(location).searchParams.get('SAMLRequest');
  if (!encoded) return null;
  const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
  return /<(?:\w+:)?AuthnRequest\b[^>]*?\sID="([^"]+)"/.exec(xml)?.[1] ?? null;
}

/**
 * At the start of a SAML login (the strategy answered with the redirect to the IdP): records the
 * request for this browser and connection, and returns the cookie to set. A browser that already has
 * a value keeps it, so that logins started in two tabs both complete.
 */
export async function bindLogin(
  strategy: object,
  request: object,
  connectionId: string,
  location: string,
): Promise<SignInCookie[]> {
  const store = stores.get(strategy);
  const requestId = store ? requestIdOf(location) : null;
  if (!store || !requestId) return [];
  const value = browserValue(request) ?? randomBytes(32).toString('base64url');
  const record: LoginRecord = { connectionId, browser: digest(value) };
  await store.saveAsync(recordKey(requestId), JSON.stringify(record));
  const secure = (request as { secure?: unknown }).secure === true;
  return [
    {
      name: secure ? SECURE_COOKIE : COOKIE,
      value,
      httpOnly: true,
      secure,
      sameSite: secure ? 'none' : 'lax',
      path: '/',
      maxAgeMs: LIFETIME_MS,
    },
  ];
}

/**
 * At the ACS, for a response to a request of this app (`InResponseTo` verified by node-saml): refuses
 * it with `LOGIN_NOT_STARTED_HERE` unless this browser started that request on this connection.
 */
export async function checkLoginBinding(
  cache: ReplayCache,
  request: unknown,
  expected: { requestId: string; connectionId: string },
): Promise<void> {
  const stored = await cache.getAsync(recordKey(expected.requestId));
  const record = stored ? (JSON.parse(stored) as LoginRecord) : null;
  if (!record || record.connectionId !== expected.connectionId) {
    throw new JitError(
      'LOGIN_NOT_STARTED_HERE',
      'The response answers a sign-in that was not started on this connection.',
    );
  }
  const value = browserValue(request);
  const sent = Buffer.from(value === undefined ? '' : digest(value));
  const kept = Buffer.from(record.browser);
  if (sent.length !== kept.length || !timingSafeEqual(sent, kept)) {
    throw new JitError(
      'LOGIN_NOT_STARTED_HERE',
      'The response answers a sign-in that was started in another browser.',
    );
  }
}
