import type { ErrorRequestHandler } from 'express';
import { consoleLogger, isJitError, logServerError, type JitLogger } from '@jit-sso/core';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface JitErrorHandlerOptions {
  /** Page title of the HTML answer (default "Sign-in failed"). */
  title?: string;
  /**
   * Where refusals answered with a 5xx (a store or identity provider that failed, a configuration
   * error) are logged with their cause (default console); 4xx refusals are answers, not failures.
   */
  logger?: JitLogger;
}

/**
 * Answers a `JitError` with its `httpStatus` and `{ error: { code, message, hint } }` (JSON when the
 * client accepts it, else a small HTML page). The cause and stack are never shown, only logged. Other
 * errors go on to the app's next error handler.
 */
export function jitErrorHandler(options: JitErrorHandlerOptions = {}): ErrorRequestHandler {
  const title = options.title ?? 'Sign-in failed';
  const logger = options.logger ?? consoleLogger;
  return (error, req, res, next) => {
    if (!isJitError(error) || res.headersSent) return next(error);
    if (error.httpStatus >= 500)
      logServerError(logger, error, { method: req.method, path: req.path, status: error.httpStatus });
    const { code, message, hint } = error.toJSON();
    res.status(error.httpStatus).set('Cache-Control', 'no-store');
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ error: { code, message, hint } });
      return;
    }
    res
      .type('html')
      .send(
        `<!doctype html><meta charset="utf-8"><title>${escape(title)}</title>` +
          `<h1>${escape(title)}</h1><p>${escape(message)}</p><p>${escape(hint)}</p><p><code>${escape(code)}</code></p>`,
      );
  };
}
