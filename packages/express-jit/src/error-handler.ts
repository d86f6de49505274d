import type { ErrorRequestHandler } from 'express';
import { isJitError } from '@jit-sso/core';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface JitErrorHandlerOptions {
  /** Page title of the HTML answer (default "Sign-in failed"). */
  title?: string;
}

/**
 * Answers a `JitError` with its `httpStatus` and `{ error: { code, message, hint } }` (JSON when the
 * client accepts it, else a small HTML page). The cause and stack are never shown. Other errors go on
 * to the app's next error handler.
 */
export function jitErrorHandler(options: JitErrorHandlerOptions = {}): ErrorRequestHandler {
  const title = options.title ?? 'Sign-in failed';
  return (error, req, res, next) => {
    if (!isJitError(error) || res.headersSent) return next(error);
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
