import type { UserRecord } from '@jit-sso/core';

/** The request fields this package reads; an Express request with passport has them. */
export interface SessionRequest {
  user?: UserRecord | { id?: unknown } | null;
  logout?: (done: (error?: unknown) => void) => void;
  session?: unknown;
}

// Users loaded from the store during this request (by the session serializer or the guard).
const fresh = new WeakSet<object>();

export function markFresh(user: UserRecord): UserRecord {
  fresh.add(user);
  return user;
}

export function isFresh(user: unknown): user is UserRecord {
  return typeof user === 'object' && user !== null && fresh.has(user);
}

/** Signs the request out with passport's `logout` (which regenerates the session) when there is one. */
export async function endSession(request: SessionRequest): Promise<void> {
  if (typeof request.logout === 'function' && request.session) {
    const logout = request.logout.bind(request);
    await new Promise<void>((resolve, reject) => logout((error) => (error ? reject(error) : resolve())));
  }
  request.user = null;
}
