import type { RequestHandler } from 'express';
import type { PassportLike } from './passport-types.js';
import { JitError, type Provisioner, type UserRecord } from '@jit-sso/core';

// Users loaded from the store during this request (by the session or `requireActiveUser`).
const fresh = new WeakSet<object>();

/**
 * Passport session support: the session holds the user id only, and each request re-loads the user
 * with `provisioner.getActiveUser`. A deactivated or deleted user is dropped from the session, so
 * their live sessions end at their next request.
 */
export function useJitSession(passport: PassportLike, provisioner: Provisioner): void {
  passport.serializeUser((user, done) => {
    const id = (user as { id?: unknown }).id;
    if (typeof id !== 'string') return done(new Error('A signed-in user must have a string id.'));
    done(null, id);
  });
  passport.deserializeUser((id: unknown, done) => {
    if (typeof id !== 'string') return done(null, false);
    provisioner.getActiveUser(id).then(
      (user) => {
        if (user) fresh.add(user);
        done(null, (user ?? false) as Express.User | false);
      },
      (error: unknown) => done(error),
    );
  });
}

/**
 * Admits only a signed-in, still active user, and puts the current `UserRecord` on `req.user`.
 * Otherwise answers `SESSION_ENDED` (401) through the error handler and ends the session.
 */
export function requireActiveUser(provisioner: Provisioner): RequestHandler {
  return (req, _res, next) => {
    const current = req.user as Partial<UserRecord> | undefined;
    if (current && fresh.has(current)) return next();
    const id = typeof current?.id === 'string' ? current.id : null;
    const ended = (message: string) => {
      const error = new JitError('SESSION_ENDED', message);
      if (typeof req.logout !== 'function' || !(req as { session?: unknown }).session) return next(error);
      req.logout((logoutError) => next(logoutError ?? error));
    };
    if (!id) return ended('You are not signed in, or your session has ended.');
    provisioner.getActiveUser(id).then((user) => {
      if (!user) return ended('Your session has ended because the account is no longer active.');
      fresh.add(user);
      req.user = user as Express.User;
      next();
    }, next);
  };
}
