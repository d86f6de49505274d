import type { UserRecord } from '@jit-sso/core';

/** What the session keeps between requests: the user's id only, never the profile or tokens. */
export interface SessionUser {
  readonly id: string;
}

/** The request fields this package reads; Express and Fastify requests with passport have them. */
export interface SessionRequest {
  user?: UserRecord | SessionUser | null;
  logout?: (options: Record<string, unknown>, done: (error?: unknown) => void) => void;
  session?: { destroy?: (done: (error?: unknown) => void) => void } | null;
}

export function sessionUserId(request: SessionRequest): string | null {
  const user = request.user;
  return user && typeof user === 'object' && typeof user.id === 'string' && user.id !== '' ? user.id : null;
}

/** Signs the request out: passport's `logout` when present (it regenerates the session), else destroys it. */
export async function endSession(request: SessionRequest): Promise<void> {
  if (typeof request.logout === 'function') {
    const logout = request.logout.bind(request);
    await new Promise<void>((resolve, reject) =>
      logout({ keepSessionInfo: false }, (error) => (error ? reject(error) : resolve())),
    );
  } else if (request.session && typeof request.session.destroy === 'function') {
    const session = request.session;
    await new Promise<void>((resolve, reject) =>
      session.destroy!((error) => (error ? reject(error) : resolve())),
    );
  }
  request.user = null;
}
