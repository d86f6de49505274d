import type { RequestHandler } from 'express';
import { jwtVerify, SignJWT } from 'jose';
import { ConfigurationError, JitError, type UserRecord } from '@jit-sso/core';

export interface JwtSessionOptions {
  /** At least 32 bytes; HS256. */
  secret: string | Uint8Array;
  issuer: string;
  audience: string;
  /** Lifetime of a token (default 3600 s). */
  ttlSeconds?: number;
  /** Read the token from this cookie as well as from `Authorization: Bearer` (cookie parsing is the app's). */
  cookieName?: string;
}

/**
 * A signed session token for apps without server sessions. The token carries the user id only;
 * combine `authenticate` with `requireActiveUser` so that each request re-loads the user and a
 * deactivated user's token stops working at once.
 */
export function createJwtSession(options: JwtSessionOptions) {
  const key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  if (key.byteLength < 32)
    throw new ConfigurationError('The session token secret must be at least 32 bytes.');
  const ttl = options.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new ConfigurationError('ttlSeconds must be a positive integer.');

  async function issue(user: Pick<UserRecord, 'id' | 'tenantId'>): Promise<string> {
    return new SignJWT({ tid: user.tenantId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .sign(key);
  }

  async function verify(token: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ['sub', 'exp'],
      });
      return payload.sub!;
    } catch (error) {
      throw new JitError('SESSION_ENDED', 'The session token is not valid or has expired.', { cause: error });
    }
  }

  /** Puts `{ id }` on `req.user` when the request carries a valid token; refuses an invalid one. */
  const authenticate: RequestHandler = (req, _res, next) => {
    const header = req.get('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const cookies = (req as { cookies?: Record<string, string> }).cookies;
    const token = bearer ?? (options.cookieName ? cookies?.[options.cookieName] : undefined);
    if (!token) return next();
    verify(token).then((id) => {
      req.user = { id } as Express.User;
      next();
    }, next);
  };

  return { issue, verify, authenticate };
}
