import type { Middleware, ParameterizedContext } from 'koa';
import { isJitError, type JitError } from '@jit-sso/core';

/** The body every adapter answers a refusal with: `JitError.toJSON()` (code, message, hint, details). */
export function jitErrorBody(error: JitError): { error: ReturnType<JitError['toJSON']> } {
  return { error: error.toJSON() };
}

export interface JitErrorsOptions {
  /** Called for refusals answered with a 5xx (configuration, store down), e.g. to log them. */
  onServerError?: (error: JitError, ctx: ParameterizedContext) => void;
}

/**
 * Mount first. Answers a `JitError` thrown further down with its `httpStatus` and
 * `{ error: { code, message, hint, details } }`: what the person signing in and their administrator
 * may see, never the cause or a stack. Other errors go on to Koa's own handling.
 */
export function jitErrors(options: JitErrorsOptions = {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!isJitError(error)) throw error;
      if (error.httpStatus >= 500) options.onServerError?.(error, ctx);
      ctx.status = error.httpStatus;
      ctx.body = jitErrorBody(error);
    }
  };
}
