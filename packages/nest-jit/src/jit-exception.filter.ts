import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { consoleLogger, JitError } from '@jit-sso/core';
import { answerRefusal, type RefusalOptions } from '@jit-sso/protocol';
import { JIT_MODULE_OPTIONS } from './jit.options-token.js';
import type { JitModuleOptions } from './options.js';

export { jitErrorBody } from '@jit-sso/protocol';

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
  private readonly options: RefusalOptions;

  constructor(
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
    @Optional() @Inject(JIT_MODULE_OPTIONS) options?: Pick<JitModuleOptions, 'logger'>,
  ) {
    this.options = { logger: options?.logger ?? consoleLogger };
  }

  catch(error: JitError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const response = http.getResponse();
    const adapter = this.adapterHost?.httpAdapter;
    const json = typeof request.accepts !== 'function' || request.accepts(['html', 'json']) === 'json';
    const path = request.path ?? request.url?.split('?')[0];
    const answer = answerRefusal(error, { method: request.method, path, json }, this.options);
    if (adapter ? adapter.isHeadersSent(response) : response.headersSent) return;
    if (adapter) {
      for (const [name, value] of Object.entries(answer.headers)) adapter.setHeader(response, name, value);
      return void adapter.reply(response, answer.body, answer.status);
    }
    // Created with `new` outside the container: the platform is Express.
    response.status(answer.status).set(answer.headers).send(answer.body);
  }
}
