// Checked by the typecheck: `req.user` is the jit user record through declaration merging.
import type { Request } from 'express';
import type { UserRecord } from '@jit-sso/core';
import type { JitUser } from '../src/index.js';

declare const req: Request;

export const user: UserRecord | undefined = req.user;
export const email: UserRecord['email'] | undefined = req.user?.email;
export const roles: UserRecord['roles'] | undefined = req.user?.roles;
export const same: JitUser | undefined = req.user;
