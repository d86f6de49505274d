import type { IncomingMessage, ServerResponse } from 'node:http';
import { consoleLogger, logServerError, readJsonBody, type JitLogger } from '@jit-sso/core';
import { invalidSyntax, ScimError } from './errors.js';
import type { ScimService } from './service.js';

export interface ScimNodeHandlerOptions {
  /**
   * A path prefix to strip from `req.url` (Koa, plain `http`). Express strips its mount path itself
   * (`app.use('/scim/v2', handler)`), so leave it out there.
   */
  mountPath?: string;
  /** Largest request body read, in bytes (default 1 MiB + 64 KiB, enough for the advertised Bulk limit). */
  maxBodyBytes?: number;
  /**
   * While the service given as a promise is not ready, requests answer 503 with this `Retry-After`
   * (seconds; default 5), so that an IdP retries instead of waiting on a connection that hangs.
   */
  retryAfterSeconds?: number;
  /**
   * Where a failure this handler answers with a 500 itself is logged (reading the body or writing the
   * answer failed, with no `next` to hand it to); default console. The service logs its own failures
   * through `createScimService({ logger })`.
   */
  logger?: JitLogger;
  /**
   * The client's address, which failed authentications are throttled by. Default: Express's
   * `req.ip` (which honours the app's `trust proxy`), else the socket's remote address.
   */
  clientAddress?: (req: IncomingMessage) => string | undefined;
}

type NodeRequest = IncomingMessage & { body?: unknown };
export type ScimNodeHandler = (
  req: NodeRequest,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

function readBody(req: NodeRequest, limit: number): Promise<unknown> {
  return readJsonBody(req, {
    limit,
    tooLarge: (max) =>
      new ScimError(413, null, `Request bodies are limited to ${max} bytes.`, {
        code: 'SCIM_PAYLOAD_TOO_LARGE',
      }),
    invalidJson: () => invalidSyntax('The request body is not valid JSON.'),
  });
}

const CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** The answer while the service is not ready, or failed to start: retry later. */
function unavailable(res: ServerResponse, retryAfter: number, detail: string): void {
  res.statusCode = 503;
  res.setHeader('Content-Type', CONTENT_TYPE);
  res.setHeader('Retry-After', String(retryAfter));
  res.end(JSON.stringify(new ScimError(503, null, detail, { code: 'SCIM_UNAVAILABLE' }).toJSON()));
}

/**
 * A Node `(req, res, next?)` handler around a SCIM service, for Express (`app.use('/scim/v2', h)`),
 * Koa (`ctx.respond = false; await h(ctx.req, ctx.res)` with `mountPath`), NestJS (`@All('*')` with
 * `@Req()`/`@Res()`, or `app.use`) and `node:http`.
 *
 * The service may be given as a promise (the app's database still migrating, say): the handler can
 * then be mounted before the server listens, and answers 503 with `Retry-After` until the promise
 * resolves, and for good when it rejects (the app's start-up failed; the cause is the app's to log).
 */
export function createScimNodeHandler(
  service: ScimService | PromiseLike<ScimService>,
  options: ScimNodeHandlerOptions = {},
): ScimNodeHandler {
  const mountPath = (options.mountPath ?? '').replace(/\/+$/, '');
  const retryAfter = options.retryAfterSeconds ?? 5;
  const logger = options.logger ?? consoleLogger;
  const clientAddress =
    options.clientAddress ?? ((req: NodeRequest) => (req as { ip?: string }).ip ?? req.socket?.remoteAddress);
  let ready: ScimService | null = null;
  let failed = false;
  if ('handle' in service) ready = service;
  else
    Promise.resolve(service).then(
      (started) => (ready = started),
      () => (failed = true),
    );
  return async (req, res, next) => {
    if (!ready) {
      req.resume();
      unavailable(
        res,
        retryAfter,
        failed ? 'The SCIM service failed to start.' : 'The SCIM service is starting; retry shortly.',
      );
      return;
    }
    const service = ready;
    const limit = options.maxBodyBytes ?? service.limits.bulkMaxPayloadSize + 65_536;
    let path = '/';
    try {
      const url = new URL(req.url ?? '/', 'http://scim.local');
      path = url.pathname;
      if (mountPath && (path === mountPath || path.startsWith(`${mountPath}/`)))
        path = path.slice(mountPath.length) || '/';
      let body: unknown;
      let result;
      try {
        body = await readBody(req, limit);
        result = await service.handle({
          method: req.method ?? 'GET',
          path,
          query: url.searchParams,
          headers: req.headers,
          body,
          clientAddress: clientAddress(req),
        });
      } catch (error) {
        if (!(error instanceof ScimError)) throw error;
        result = {
          status: error.status,
          headers: { 'Content-Type': CONTENT_TYPE },
          body: error.toJSON(),
        };
      }
      res.statusCode = result.status;
      for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
      res.end(result.body === undefined ? undefined : JSON.stringify(result.body));
    } catch (error) {
      if (next) return next(error);
      logServerError(logger, error, { method: req.method, path, status: 500 });
      if (res.headersSent) return void res.destroy();
      res.statusCode = 500;
      res.end();
    }
  };
}
