import { isJitError } from './errors.js';

/**
 * Where the adapters report what they answer with a 5xx. The record comes first and the line
 * second, so `console` and a pino logger both fit as they are (pino takes the record as its merging
 * object).
 */
export interface JitLogger {
  error(record: Record<string, unknown>, message: string): void;
  /** What is not a failure of the app but should be seen (an attack throttled); `error` when absent. */
  warn?(record: Record<string, unknown>, message: string): void;
}

/** An error as it is logged: its class, message, code and stack, and those of its causes. */
export interface LoggedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: LoggedError;
}

const MAX_CAUSES = 8;

/**
 * Only the name, message, code and stack of each error in the `cause` chain: the other fields a
 * driver or protocol library puts on its errors (query parameters, HTTP responses, request bodies)
 * may carry what the client sent, so they are left out.
 */
export function describeError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const code = (error as { code?: unknown }).code;
  const described: LoggedError = { type: error.name, message: error.message };
  if (typeof code === 'string' || typeof code === 'number') described.code = String(code);
  if (error.stack) described.stack = error.stack;
  if (error.cause !== undefined && depth < MAX_CAUSES)
    described.cause = describeError(error.cause, depth + 1);
  return described;
}

function causes(error: LoggedError): string {
  const parts: string[] = [];
  for (let e: LoggedError | undefined = error; e; e = e.cause) parts.push(`${e.type}: ${e.message}`);
  return parts.join(' <- caused by ');
}

export interface FailedRequest {
  method?: string | undefined;
  /** The path only: a query string may hold an authorization code. */
  path?: string | undefined;
  status: number;
}

/**
 * Logs a request answered with a 5xx, with the whole cause chain in the line itself (a logger that
 * drops the record still shows the driver's or the identity provider's message). Never the request's
 * headers, body or query.
 */
export function logServerError(logger: JitLogger, error: unknown, request: FailedRequest): void {
  const described = describeError(error);
  const code = isJitError(error) ? error.code : undefined;
  const where = [request.method, request.path].filter(Boolean).join(' ');
  const line = `${where ? `${where} ` : ''}answered ${request.status}${code ? ` ${code}` : ''}: ${causes(described)}`;
  logger.error(
    {
      status: request.status,
      ...(code ? { code } : {}),
      ...(request.method ? { method: request.method } : {}),
      ...(request.path ? { path: request.path } : {}),
      error: described,
    },
    line,
  );
}

/** Without a logger of the app's, failures go to the console. */
export const consoleLogger: JitLogger = console;
