import type { Context, Middleware } from 'koa';
import {
  createAdminNodeHandler,
  type AdminCaller,
  type AdminNodeHandlerOptions,
  type AdminService,
} from '@jit-sso/protocol';

export interface AdminMiddlewareOptions extends Pick<AdminNodeHandlerOptions, 'maxBodyBytes' | 'logger'> {
  /** The API's base path (default `/admin/api`). */
  path?: string;
  /** Who is calling and which tenant they administer, from the app's session or token; `null` answers 401. */
  caller(ctx: Context): AdminCaller | null | Promise<AdminCaller | null>;
}

/**
 * The admin service of `@jit-sso/protocol` (self-serve SSO onboarding) as a JSON API under `path`,
 * as Koa middleware; other requests go on. A body koa-bodyparser already read is used as it is.
 */
export function adminMiddleware(service: AdminService, options: AdminMiddlewareOptions): Middleware {
  const path = (options.path ?? '/admin/api').replace(/\/+$/, '');
  const contexts = new WeakMap<object, Context>();
  const handler = createAdminNodeHandler(service, {
    mountPath: path,
    caller: (req) => options.caller(contexts.get(req)!),
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return async (ctx, next) => {
    if (ctx.path !== path && !ctx.path.startsWith(`${path}/`)) return next();
    const req = ctx.req as typeof ctx.req & { body?: unknown };
    if (!req.readable || req.readableEnded) {
      req.body = (ctx.request as typeof ctx.request & { body?: unknown }).body;
    }
    contexts.set(req, ctx);
    ctx.respond = false;
    await handler(req, ctx.res);
  };
}
