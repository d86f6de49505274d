// Checked by the typecheck: `ctx.state.user` is the jit user record through declaration merging.
import type { Middleware } from 'koa';
import type { UserRecord } from '@jit-sso/core';
import '../src/index.js';

export const read: Middleware = (ctx) => {
  const user: UserRecord | null | undefined = ctx.state.user;
  // @ts-expect-error a user record is not a number; without the merge `ctx.state` is `any`
  const wrong: number = ctx.state.user;
  ctx.body = { email: user?.email, wrong };
};
