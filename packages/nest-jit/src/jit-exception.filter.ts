import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { consoleLogger, JitError, logServerError, type JitLogger } from '@jit-sso/core';
import { JIT_MODULE_OPTIONS } from './jit.options-token.js';
import type { JitModuleOptions } from './options.js';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The JSON every adapter answers a refusal with: `{ error: { code, message, hint } }`. */
export function jitErrorBody(error: JitError): {
  error: { code: JitError['code']; message: string; hint: string };
} {
  const { code, message, hint } = error.toJSON();
  return { error: { code, message, hint } };
}

interface HttpRequestLike {
  accepts?: (types: string[]) => string | false;
  method?: string;
  path?: string;
  url?: string;
}

/**
 * Answers a `JitError` with its `httpStatus` and `{ error: { code, message, hint } }` (JSON when the
 * client accepts it, else a small HTML page): what the person signing in and their administrator
 * may see, never the cause or a stack; refusals answered with a 5xx are logged with their cause
 * through the module's `logger`. `JitModule` installs it globally unless `exceptionFilter: false`;
 * then register it yourself (`app.useGlobalFilters(new JitExceptionFilter())`, `APP_FILTER`, or
 * `@UseFilters(JitExceptionFilter)`).
 */
@Catch(JitError)
export class JitExceptionFilter implements ExceptionFilter<JitError> {
  private readonly title = 'Sign-in failed';

  private readonly logger: JitLogger;

  constructor(
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
    @Optional() @Inject(JIT_MODULE_OPTIONS) options?: Pick<JitModuleOptions, 'logger'>,
  ) {
    this.logger = options?.logger ?? consoleLogger;
  }

  catch(error: JitError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const response = http.getResponse();
    const adapter = this.adapterHost?.httpAdapter;
    if (error.httpStatus >= 500) {
      const path = request.path ?? request.url?.split('?')[0];
      logServerError(this.logger, error, { method: request.method, path, status: error.httpStatus });
    }
    if (adapter ? adapter.isHeadersSent(response) : response.headersSent) return;

    const body = jitErrorBody(error);
    const json = typeof request.accepts !== 'function' || request.accepts(['html', 'json']) === 'json';
    const { code, message, hint } = body.error;
    const page =
      `<!doctype html><meta charset="utf-8"><title>${escape(this.title)}</title>` +
      `<h1>${escape(this.title)}</h1><p>${escape(message)}</p><p>${escape(hint)}</p><p><code>${escape(code)}</code></p>`;

    if (adapter) {
      adapter.setHeader(response, 'Cache-Control', 'no-store');
      if (json) return void adapter.reply(response, body, error.httpStatus);
      adapter.setHeader(response, 'Content-Type', 'text/html; charset=utf-8');
      return void adapter.reply(response, page, error.httpStatus);
    }
    // Created with `new` outside the container: the platform is Express.
    response.status(error.httpStatus).set('Cache-Control', 'no-store');
    if (json) response.json(body);
    else response.type('html').send(page);
  }
}
