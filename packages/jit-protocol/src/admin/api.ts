import type { IncomingMessage, ServerResponse } from 'node:http';
import { consoleLogger, logServerError, readJsonBody, type JitLogger } from '@jit-sso/core';
import { AdminError } from './errors.js';
import type { AdminCaller, AdminService } from './service.js';

/** A request to the admin JSON API, framework-free. */
export interface AdminApiRequest {
  method: string;
  /** The path under the API's mount point, e.g. `/connections/acme-saml`. */
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** Who is calling, as the app authenticated them; `null` for nobody. */
  caller: AdminCaller | null;
}

export interface AdminApiResponse {
  status: number;
  contentType: string;
  /** JSON (serialised by the caller) or, for SP metadata, XML text. */
  body: unknown;
}

type Handler = (
  service: AdminService,
  caller: AdminCaller,
  params: string[],
  request: AdminApiRequest,
) => Promise<unknown>;

interface Route {
  method: string;
  pattern: RegExp;
  status?: number;
  xml?: boolean;
  handle: Handler;
}

const segment = '([^/]+)';
const limitOf = (query: URLSearchParams) => {
  const raw = query.get('limit');
  const n = raw === null ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
};
const expectedVersionOf = (request: AdminApiRequest): unknown => {
  if (request.body !== undefined) return request.body;
  const raw = request.query.get('expectedVersion');
  return raw === null ? {} : { expectedVersion: Number(raw) };
};

/**
 * The admin API's routes, one per service method. Paths never name the tenant: the caller's is
 * the only one visible.
 */
const ROUTES: readonly Route[] = [
  { method: 'GET', pattern: /^\/tenant$/, handle: (s, c) => s.getTenant(c) },
  { method: 'GET', pattern: /^\/connections$/, handle: (s, c) => s.listConnections(c) },
  {
    method: 'POST',
    pattern: /^\/connections\/saml$/,
    status: 201,
    handle: (s, c, _p, r) => s.createSamlConnection(c, r.body),
  },
  {
    method: 'POST',
    pattern: /^\/connections\/oidc$/,
    status: 201,
    handle: (s, c, _p, r) => s.createOidcConnection(c, r.body),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/connections/${segment}$`),
    handle: (s, c, [id]) => s.getConnection(c, id!),
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^/connections/${segment}$`),
    handle: (s, c, [id], r) => s.updateConnection(c, id!, r.body),
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/connections/${segment}$`),
    handle: (s, c, [id], r) => s.deleteConnection(c, id!, expectedVersionOf(r)),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/connections/${segment}/certificates$`),
    handle: (s, c, [id], r) => s.rolloverCertificate(c, id!, r.body),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/connections/${segment}/sp-metadata$`),
    xml: true,
    handle: (s, c, [id]) => s.serviceProviderMetadata(c, id!),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/connections/${segment}/preview$`),
    handle: (s, c, [id], r) => s.previewMapping(c, id!, r.body),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/connections/${segment}/attempts$`),
    handle: (s, c, [id], r) => s.recentAttempts(c, id!, limitOf(r.query)),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/service-provider/(saml|oidc)/${segment}$`),
    handle: (s, c, [protocol, id]) => s.serviceProviderValues(c, id!, protocol as 'saml' | 'oidc'),
  },
  { method: 'GET', pattern: /^\/domains$/, handle: (s, c) => s.listDomains(c) },
  { method: 'POST', pattern: /^\/domains$/, status: 201, handle: (s, c, _p, r) => s.claimDomain(c, r.body) },
  {
    method: 'POST',
    pattern: new RegExp(`^/domains/${segment}/verify$`),
    handle: (s, c, [domain]) => s.verifyDomain(c, domain!),
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/domains/${segment}$`),
    handle: (s, c, [domain]) => s.releaseDomain(c, domain!),
  },
  { method: 'GET', pattern: /^\/webhooks$/, handle: (s, c) => s.listWebhookEndpoints(c) },
  {
    method: 'POST',
    pattern: /^\/webhooks$/,
    status: 201,
    handle: (s, c, _p, r) => s.registerWebhookEndpoint(c, r.body),
  },
  {
    method: 'GET',
    pattern: /^\/webhooks\/failures$/,
    handle: (s, c, _p, r) => {
      const endpointId = r.query.get('endpointId');
      const limit = limitOf(r.query);
      return s.listWebhookFailures(c, {
        ...(endpointId !== null ? { endpointId } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/${segment}/rotate$`),
    handle: (s, c, [id], r) => s.rotateWebhookSecret(c, id!, r.body),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/${segment}/pause$`),
    handle: (s, c, [id]) => s.pauseWebhookEndpoint(c, id!),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/${segment}/resume$`),
    handle: (s, c, [id]) => s.resumeWebhookEndpoint(c, id!),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/${segment}/deliveries/${segment}/redeliver$`),
    handle: (s, c, [id, eventId]) => s.redeliverWebhook(c, id!, eventId!),
  },
  { method: 'GET', pattern: /^\/scim\/tokens$/, handle: (s, c) => s.listScimTokens(c) },
  {
    method: 'POST',
    pattern: /^\/scim\/tokens$/,
    status: 201,
    handle: (s, c, _p, r) => s.issueScimToken(c, r.body),
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/scim/tokens/${segment}$`),
    handle: (s, c, [id]) => s.revokeScimToken(c, id!),
  },
  { method: 'GET', pattern: /^\/changes$/, handle: (s, c, _p, r) => s.listChanges(c, limitOf(r.query)) },
];

const JSON_TYPE = 'application/json; charset=utf-8';

function errorResponse(error: AdminError): AdminApiResponse {
  return { status: error.httpStatus, contentType: JSON_TYPE, body: { error: error.toJSON() } };
}

export interface AdminApi {
  handle(request: AdminApiRequest): Promise<AdminApiResponse>;
}

/**
 * The admin service as a JSON API, framework-free: `{ error: { code, message, hint, details } }`
 * with the code's status for every refusal (the same on every adapter). Errors that are not the
 * service's (a bug) are thrown for the adapter to log and answer 500.
 */
export function createAdminApi(service: AdminService): AdminApi {
  return {
    async handle(request) {
      let path: string;
      try {
        path = decodeURI(request.path.replace(/\/+$/, '') || '/');
      } catch {
        return errorResponse(new AdminError('INVALID_INPUT', 'The path is not valid.'));
      }
      const matching = ROUTES.filter((r) => r.pattern.test(path));
      if (matching.length === 0) return errorResponse(new AdminError('NOT_FOUND', `No admin route ${path}.`));
      const route = matching.find((r) => r.method === request.method.toUpperCase());
      if (!route) {
        return {
          status: 405,
          contentType: JSON_TYPE,
          body: {
            error: {
              code: 'METHOD_NOT_ALLOWED',
              message: `${request.method} is not allowed on ${path}.`,
              hint: `Use ${matching.map((r) => r.method).join(', ')}.`,
              details: {},
            },
          },
        };
      }
      if (!request.caller)
        return errorResponse(new AdminError('UNAUTHENTICATED', 'Sign in as an administrator.'));
      const params = route.pattern
        .exec(path)!
        .slice(1)
        .map((p) => decodeURIComponent(p));
      try {
        const result = await route.handle(service, request.caller, params, request);
        return route.xml
          ? { status: 200, contentType: 'application/samlmetadata+xml; charset=utf-8', body: result }
          : { status: route.status ?? 200, contentType: JSON_TYPE, body: result };
      } catch (error) {
        if (error instanceof AdminError) return errorResponse(error);
        throw error;
      }
    },
  };
}

export interface AdminNodeHandlerOptions<R extends IncomingMessage = IncomingMessage> {
  /** Who is calling (from the app's session or token); `null` when nobody the app trusts. */
  caller(req: R): AdminCaller | null | Promise<AdminCaller | null>;
  /** A path prefix to strip from `req.url` (Koa, NestJS middleware, plain `http`); Express strips its own. */
  mountPath?: string;
  /** Largest request body, in bytes (default 2 MiB: uploaded metadata). */
  maxBodyBytes?: number;
  /** Where failures answered with a 500 are logged (default console). */
  logger?: JitLogger;
}

type NodeRequest = IncomingMessage & { body?: unknown };
export type AdminNodeHandler<R extends IncomingMessage = IncomingMessage> = (
  req: R,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

function readJson(req: NodeRequest, limit: number): Promise<unknown> {
  return readJsonBody(req, {
    limit,
    tooLarge: (max) => new AdminError('INVALID_INPUT', `Request bodies are limited to ${max} bytes.`),
    invalidJson: () => new AdminError('INVALID_INPUT', 'The request body is not valid JSON.'),
  });
}

/**
 * The admin API as a Node `(req, res, next?)` handler, for Express (`app.use('/admin/api', h)`),
 * Koa and NestJS (with `mountPath`) and `node:http`. A request with a body must be
 * `application/json`, which a cross-site form cannot send.
 */
export function createAdminNodeHandler<R extends IncomingMessage = IncomingMessage>(
  service: AdminService,
  options: AdminNodeHandlerOptions<R>,
): AdminNodeHandler<R> {
  const api = createAdminApi(service);
  const mountPath = (options.mountPath ?? '').replace(/\/+$/, '');
  const limit = options.maxBodyBytes ?? 2 * 1024 * 1024;
  const logger = options.logger ?? consoleLogger;
  return async (req, res, next) => {
    let path = '/';
    try {
      const url = new URL(req.url ?? '/', 'http://admin.local');
      path = url.pathname;
      if (mountPath && (path === mountPath || path.startsWith(`${mountPath}/`)))
        path = path.slice(mountPath.length) || '/';
      let answer: AdminApiResponse;
      try {
        const hasBody =
          Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
        const type = String(req.headers['content-type'] ?? '');
        // Also when a body parser already read it: a form posted from another site must not pass.
        if (hasBody && !/^application\/json\b/i.test(type)) {
          throw new AdminError('INVALID_INPUT', 'Send the request body as application/json.');
        }
        const body = await readJson(req as NodeRequest, limit);
        const caller = await options.caller(req);
        answer = await api.handle({
          method: req.method ?? 'GET',
          path,
          query: url.searchParams,
          body,
          caller,
        });
      } catch (error) {
        if (!(error instanceof AdminError)) throw error;
        answer = {
          status: error.httpStatus,
          contentType: 'application/json; charset=utf-8',
          body: { error: error.toJSON() },
        };
      }
      res.statusCode = answer.status;
      res.setHeader('Content-Type', answer.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.end(
        typeof answer.body === 'string' && !answer.contentType.startsWith('application/json')
          ? answer.body
          : JSON.stringify(answer.body),
      );
    } catch (error) {
      if (next) return next(error);
      logServerError(logger, error, { method: req.method, path, status: 500 });
      if (res.headersSent) return void res.destroy();
      res.statusCode = 500;
      res.end();
    }
  };
}
