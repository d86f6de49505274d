import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { UserRecord } from '@jit-sso/core';

/**
 * The signed-in user as `JitSessionGuard` (or a login guard) left it on the request, or one of its
 * fields: `@CurrentUser() user: UserRecord`, `@CurrentUser('email') email: string`. `null` when the
 * route is not guarded and nobody is signed in.
 */
// Typed here rather than inferred: the inferred type names decorator options that exist only in
// @nestjs/common 11 and later, which an app on Nest 10 would fail to compile.
export const CurrentUser: (field?: keyof UserRecord) => ParameterDecorator = createParamDecorator(
  (field: keyof UserRecord | undefined, context: ExecutionContext): unknown => {
    const user = context.switchToHttp().getRequest<{ user?: UserRecord | null }>().user ?? null;
    if (!field) return user;
    return user ? user[field] : null;
  },
);
