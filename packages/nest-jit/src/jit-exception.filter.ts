import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { JitError } from '@jit-sso/core';

/** The body every adapter answers a refusal with: `JitError.toJSON()` (code, message, hint, details). */
export function jitErrorBody(error: JitError): { error: ReturnType<JitError['toJSON']> } {
  return { error: error.toJSON() };
}

/**
 * Answers a `JitError` with its `httpStatus` and `{ error: { code, message, hint, details } }`:
 * what the person signing in and their administrator may see, never the cause or a stack.
 * Register it globally (`app.useGlobalFilters(new JitExceptionFilter())`, or `APP_FILTER`) or per
 * controller with `@UseFilters(JitExceptionFilter)`.
 */
@Catch(JitError)
export class JitExceptionFilter implements ExceptionFilter<JitError> {
  constructor(@Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost) {}

  catch(error: JitError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse();
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter) {
      if (adapter.isHeadersSent(response)) return;
      adapter.reply(response, jitErrorBody(error), error.httpStatus);
      return;
    }
    // Created with `new` outside the container: the platform is Express.
    if (response.headersSent) return;
    response.status(error.httpStatus).json(jitErrorBody(error));
  }
}
