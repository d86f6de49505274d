import type { ErrorRequestHandler } from 'express';
import { isJitError, type JitLogger } from '@jit-sso/core';
import { answerRefusal } from '@jit-sso/protocol';

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
  return (error, req, res, next) => {
    if (!isJitError(error) || res.headersSent) return next(error);
    const json = req.accepts(['html', 'json']) === 'json';
    const answer = answerRefusal(error, { method: req.method, path: req.path, json }, options);
    res.status(answer.status).set(answer.headers).send(answer.body);
  };
}
