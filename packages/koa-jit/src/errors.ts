import type { Middleware, ParameterizedContext } from 'koa';
import { isJitError, type JitError, type JitLogger } from '@jit-sso/core';
import { answerRefusal } from '@jit-sso/protocol';

export { jitErrorBody } from '@jit-sso/protocol';

export interface JitErrorHandlerOptions {
  /** Page title of the HTML answer (default "Sign-in failed"). */
  title?: string;
  /**
   * Where refusals answered with a 5xx (a store or identity provider that failed, a configuration
   * error) are logged with their cause (default console); 4xx refusals are answers, not failures.
   */
  logger?: JitLogger;
  /** Also called for refusals answered with a 5xx, after they are logged (e.g. to count them). */
  onServerError?: (error: JitError, ctx: ParameterizedContext) => void;
}

/**
 * Mount first. Answers a `JitError` thrown further down with its `httpStatus` and
 * `{ error: { code, message, hint } }` (JSON when the client accepts it, else a small HTML page).
 * The cause and stack are never shown, only logged. Other errors go on to Koa's own handling.
 */
export function jitErrorHandler(options: JitErrorHandlerOptions = {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!isJitError(error)) throw error;
      const json = ctx.accepts(['html', 'json']) === 'json';
      const answer = answerRefusal(error, { method: ctx.method, path: ctx.path, json }, options);
      if (error.httpStatus >= 500) options.onServerError?.(error, ctx);
      ctx.status = answer.status;
      ctx.set(answer.headers);
      ctx.body = answer.body;
    }
  };
}
