import type { Middleware, ParameterizedContext } from 'koa';
import { consoleLogger, isJitError, logServerError, type JitError, type JitLogger } from '@jit-sso/core';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The JSON every adapter answers a refusal with: `{ error: { code, message, hint } }`. */
export function jitErrorBody(error: JitError): {
  error: { code: JitError['code']; message: string; hint: string };
} {
  const { code, message, hint } = error.toJSON();
  return { error: { code, message, hint } };
}

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
  const title = options.title ?? 'Sign-in failed';
  const logger = options.logger ?? consoleLogger;
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!isJitError(error)) throw error;
      if (error.httpStatus >= 500) {
        logServerError(logger, error, { method: ctx.method, path: ctx.path, status: error.httpStatus });
        options.onServerError?.(error, ctx);
      }
      ctx.status = error.httpStatus;
      ctx.set('Cache-Control', 'no-store');
      const body = jitErrorBody(error);
      if (ctx.accepts(['html', 'json']) === 'json') {
        ctx.body = body;
        return;
      }
      const { code, message, hint } = body.error;
      ctx.type = 'html';
      ctx.body =
        `<!doctype html><meta charset="utf-8"><title>${escape(title)}</title>` +
        `<h1>${escape(title)}</h1><p>${escape(message)}</p><p>${escape(hint)}</p><p><code>${escape(code)}</code></p>`;
    }
  };
}
