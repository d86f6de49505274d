import type { UserRecord } from '@jit-sso/core';

// Passport's `req.user` is an `Express.User`; after a sign-in, `requireActiveUser` or the session, it
// is the account's `UserRecord`.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends UserRecord {}
    // As @types/passport declares it, for apps that do not install those types.
    interface Request {
      user?: User | undefined;
    }
  }
}

export type { UserRecord as JitUser };
