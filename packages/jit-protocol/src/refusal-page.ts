import { consoleLogger, logServerError, ServerBusyError, type JitError, type JitLogger } from '@jit-sso/core';

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** The JSON every adapter answers a refusal with: `{ error: { code, message, hint } }`. */
export function jitErrorBody(error: JitError): {
  error: { code: JitError['code']; message: string; hint: string };
} {
  const { code, message, hint } = error.toJSON();
  return { error: { code, message, hint } };
}

/** The small HTML page a browser is shown for a refusal: what the person and their administrator may see. */
export function refusalPage(error: JitError, title = 'Sign-in failed'): string {
  const { code, message, hint } = jitErrorBody(error).error;
  return (
    `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p>${escapeHtml(hint)}</p>` +
    `<p><code>${escapeHtml(code)}</code></p>`
  );
}

export interface RefusalOptions {
  /** Page title of the HTML answer (default "Sign-in failed"). */
  title?: string | undefined;
  /** Where refusals answered with a 5xx are logged with their cause (default console); 4xx are answers, not failures. */
  logger?: JitLogger | undefined;
}

/** The request being answered: for the log line, and whether the client prefers JSON to HTML. */
export interface RefusedRequest {
  method?: string | undefined;
  /** The path only: a query string may hold an authorization code. */
  path?: string | undefined;
  json: boolean;
}

/** What an adapter writes for a refusal: status, headers and body. */
export interface RefusalAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: ReturnType<typeof jitErrorBody> | string;
}

/**
 * The answer to a refusal, the same on every framework: its `httpStatus`, never cached, JSON or the
 * HTML page, and none of its cause or stack, which are logged (5xx only). A `ServerBusyError` also
 * carries `Retry-After`.
 */
export function answerRefusal(
  error: JitError,
  request: RefusedRequest,
  options: RefusalOptions = {},
): RefusalAnswer {
  if (error.httpStatus >= 500) {
    const { method, path } = request;
    logServerError(options.logger ?? consoleLogger, error, { method, path, status: error.httpStatus });
  }
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  // A full validation queue (`SERVER_BUSY`): the client may try again after this many seconds.
  if (error instanceof ServerBusyError) headers['Retry-After'] = String(error.retryAfterSeconds);
  if (request.json) return { status: error.httpStatus, headers, body: jitErrorBody(error) };
  return {
    status: error.httpStatus,
    headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' },
    body: refusalPage(error, options.title),
  };
}
