import type { Middleware, ParameterizedContext } from 'koa';
import { JitError, type Provisioner, type UserRecord } from '@jit-sso/core';

/** The part of the engine a session needs. */
export type ActiveUserSource = Pick<Provisioner, 'getActiveUser'>;

export interface JitState {
  /** The signed-in user, as `passport.session()` / `requireActiveUser` loaded it from the store. */
  user?: UserRecord | null;
}

/** The slice of koa-passport's instance the serializer is registered on. */
export interface PassportSerializers {
  serializeUser(fn: (user: unknown, done: (error: unknown, id?: unknown) => void) => void): void;
  deserializeUser(fn: (id: unknown, done: (error: unknown, user?: unknown) => void) => void): void;
}

// Users loaded from the store during this request (by the session or `requireActiveUser`).
const fresh = new WeakSet<object>();

/**
 * Passport session support for koa-passport: the session holds the user id only, and each request
 * re-loads the user with `getActiveUser`. A deactivated or deleted user is dropped from the session
 * by `passport.session()`, so their live sessions end at their next request.
 */
export function useJitSession(passport: PassportSerializers, provisioner: ActiveUserSource): void {
  passport.serializeUser((user, done) => {
    const id = (user as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return done(new Error('A signed-in user must have a string id.'));
    done(null, id);
  });
  passport.deserializeUser((id, done) => {
    if (typeof id !== 'string') return done(null, false);
    provisioner.getActiveUser(id).then(
      (user) => {
        if (user) fresh.add(user);
        done(null, user ?? false);
      },
      (error: unknown) => done(error),
    );
  });
}

type SessionContext = ParameterizedContext<JitState> & {
  logout?: () => Promise<void>;
  session?: unknown;
};

/**
 * Admits only a signed-in, still active user, and puts the current `UserRecord` on
 * `ctx.state.user`. Otherwise throws `SESSION_ENDED` (401) for `jitErrorHandler` and ends the session.
 */
export function requireActiveUser(provisioner: ActiveUserSource): Middleware<JitState> {
  return async (ctx, next) => {
    const current = ctx.state.user as Partial<UserRecord> | null | undefined;
    if (!(current && fresh.has(current))) {
      const id = typeof current?.id === 'string' ? current.id : null;
      if (!id) await ended(ctx, 'You are not signed in, or your session has ended.');
      const user = await provisioner.getActiveUser(id!);
      if (!user) await ended(ctx, 'Your session has ended because the account is no longer active.');
      fresh.add(user!);
      ctx.state.user = user;
    }
    await next();
  };
}

async function ended(ctx: SessionContext, message: string): Promise<never> {
  if (typeof ctx.logout === 'function' && ctx.session) await ctx.logout();
  ctx.state.user = null;
  throw new JitError('SESSION_ENDED', message);
}

declare module 'koa' {
  interface DefaultState {
    /** The signed-in user, as `passport.session()`, `requireActiveUser` or a sign-in route left it. */
    user?: UserRecord | null;
  }
}
