import { JitError } from '@jit-sso/core';
import { ScimError } from './errors.js';
import type { ServiceContext } from './context.js';
import type { ScimRequest, ScimResponse } from './types.js';

const CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function response(status: number, body?: unknown, extra: Record<string, string> = {}): ScimResponse {
  const headers: Record<string, string> = { ...extra };
  if (body !== undefined) headers['Content-Type'] = CONTENT_TYPE;
  return body === undefined ? { status, headers } : { status, headers, body };
}

export function errorResponse(error: ScimError): ScimResponse {
  const extra: Record<string, string> =
    error.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="SCIM"' } : {};
  if (error.retryAfterSeconds !== null) extra['Retry-After'] = String(error.retryAfterSeconds);
  return response(error.status, error.toJSON(), extra);
}

/** Fields of driver errors that say what failed without carrying the statement's values. */
const ERROR_FIELDS = ['code', 'errno', 'sqlState', 'severity', 'routine'] as const;

/**
 * A copy of an error and its causes for the log: name, message, stack and the driver's codes, but
 * not a query's parameters or a constraint's `detail`, which hold the directory's data.
 */
export function withoutValues(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return error === undefined || error === null ? error : String(error);
  const copy = new Error(error.message);
  copy.name = error.name;
  if (error.stack) copy.stack = error.stack;
  const source = error as unknown as Record<string, unknown>;
  for (const field of ERROR_FIELDS) {
    if (source[field] !== undefined) (copy as unknown as Record<string, unknown>)[field] = source[field];
  }
  const cause = source['driverError'] ?? error.cause;
  if (cause !== undefined && depth < 4) copy.cause = withoutValues(cause, depth + 1);
  return copy;
}

/**
 * Answers a failure; every 5xx is reported (`onError`, else the logger) with its cause, the request
 * named by method and path, and no statement values or directory data.
 */
export function toResponse(
  service: Pick<ServiceContext, 'report'>,
  error: unknown,
  request: Pick<ScimRequest, 'method' | 'path'>,
): ScimResponse {
  let answer: ScimError;
  if (error instanceof ScimError) answer = error;
  else if (error instanceof JitError) {
    const status = error.httpStatus >= 500 ? error.httpStatus : 400;
    answer = new ScimError(status, status === 400 ? 'invalidValue' : null, error.message, {
      code: error.code,
    });
  } else {
    answer = new ScimError(500, null, 'The SCIM service failed; the error has been logged.', {
      code: 'SCIM_INTERNAL',
    });
  }
  if (answer.status >= 500) {
    const method = request.method.toUpperCase();
    const path = request.path.split('?')[0] ?? '';
    const failure = new ScimError(answer.status, null, `SCIM ${method} ${path} failed: ${answer.code}`, {
      code: answer.code,
      cause: withoutValues(error),
    });
    service.report(failure, answer.status, { method, path });
  }
  return errorResponse(answer);
}
