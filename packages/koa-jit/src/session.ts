import type { Middleware, ParameterizedContext } from 'koa';
import { JitError, type Provisioner, type UserRecord } from '@jit-sso/core';

/** What the session keeps between requests: the user's id only, never the profile or tokens. */
export interface SessionUser {
  readonly id: string;
}

export interface JitState {
  user?: UserRecord | SessionUser | null;
}

type Ctx = ParameterizedContext<JitState> & {
  logout?: () => Promise<void>;
  session?: unknown;
};

/** The part of the engine a session check needs. */
export type ActiveUserSource = Pick<Provisioner, 'getActiveUser'>;

function sessionUserId(ctx: Ctx): string | null {
  const user = ctx.state.user;
  return user && typeof user === 'object' && typeof user.id === 'string' && user.id !== '' ? user.id : null;
}

async function endSession(ctx: Ctx): Promise<void> {
  if (typeof ctx.logout === 'function') await ctx.logout();
  if (ctx.session !== undefined) ctx.session = null;
  ctx.state.user = null;
}

/**
 * Mount after `passport.session()`. On every request with a session user it reads the user from the
 * store: an active user replaces `ctx.state.user` (current roles and status); a user who was
 * deactivated or removed since signing in has the session ended and the request refused with
 * `SESSION_ENDED`. Requests without a session pass through (guard them with `requireUser()`).
 */
export function jitSession(jit: ActiveUserSource): Middleware<JitState> {
  return async (ctx, next) => {
    const userId = sessionUserId(ctx as Ctx);
    if (userId) {
      const user = await jit.getActiveUser(userId);
      if (!user) {
        await endSession(ctx as Ctx);
        throw new JitError(
          'SESSION_ENDED',
          'The session has ended because the account was deactivated or removed.',
        );
      }
      ctx.state.user = user;
    }
    await next();
  };
}

/** Refuses a request that is not signed in with `SESSION_ENDED` (mount after `jitSession`). */
export function requireUser(): Middleware<JitState> {
  return async (ctx, next) => {
    if (!sessionUserId(ctx as Ctx)) throw new JitError('SESSION_ENDED', 'This request is not signed in.');
    await next();
  };
}

/** The slice of koa-passport's instance the serializer is registered on. */
export interface PassportSerializers {
  serializeUser(fn: (user: unknown, done: (error: unknown, id?: unknown) => void) => void): void;
  deserializeUser(fn: (id: unknown, done: (error: unknown, user?: unknown) => void) => void): void;
}

/**
 * Stores only the user id in the session; `jitSession` reads the user again on each request, so a
 * deactivation takes effect at the next request.
 */
export function useJitSerializer(passport: PassportSerializers): void {
  passport.serializeUser((user, done) => {
    const id = (user as Partial<SessionUser> | null)?.id;
    if (typeof id !== 'string' || id === '') {
      done(new Error('Only a provisioned jit-sso user can be stored in the session.'));
      return;
    }
    done(null, id);
  });
  passport.deserializeUser((id, done) => {
    done(null, typeof id === 'string' && id !== '' ? ({ id } satisfies SessionUser) : false);
  });
}
