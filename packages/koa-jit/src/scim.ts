import type { Middleware } from 'koa';
import { createScimNodeHandler, type ScimNodeHandlerOptions, type ScimService } from '@jit-sso/scim';

export interface ScimMiddlewareOptions extends Pick<ScimNodeHandlerOptions, 'maxBodyBytes' | 'logger'> {
  /** The SCIM base path (default `/scim/v2`). */
  path?: string;
}

/**
 * The SCIM 2.0 endpoint of `@jit-sso/scim` as Koa middleware: requests under `path` are answered
 * by the SCIM service, others go on. The raw body is read by the service, so `application/scim+json`
 * works and malformed JSON gets a SCIM error; a body koa-bodyparser already read is used as it is.
 * `logger` takes what the middleware answers with a 500 itself; give the service its own
 * (`createScimService({ logger })`) for the failures it answers.
 */
export function scimMiddleware(service: ScimService, options: ScimMiddlewareOptions = {}): Middleware {
  const path = (options.path ?? '/scim/v2').replace(/\/+$/, '');
  const handler = createScimNodeHandler(service, {
    mountPath: path,
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return async (ctx, next) => {
    if (ctx.path !== path && !ctx.path.startsWith(`${path}/`)) return next();
    const req = ctx.req as typeof ctx.req & { body?: unknown };
    // A body parser consumed the stream: hand over what it read.
    if (!req.readable || req.readableEnded) {
      const request = ctx.request as typeof ctx.request & { rawBody?: unknown; body?: unknown };
      req.body = typeof request.rawBody === 'string' ? request.rawBody : request.body;
    }
    ctx.respond = false;
    await handler(req, ctx.res);
  };
}
