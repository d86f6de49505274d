import { integer, type Json, type ServiceContext } from './context.js';
import { BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA } from './discovery.js';
import { ScimError, invalidSyntax } from './errors.js';
import { isObject } from './resources.js';
import { response, toResponse } from './responses.js';
import type { Headers, ScimRequest, ScimResponse } from './types.js';

/** Answers one request of the directory the Bulk request was made for. */
export type Route = (request: ScimRequest) => Promise<ScimResponse>;

/** The Bulk body's operations, once its schema and size are within the service's limits. */
function readOperations(
  service: ServiceContext,
  body: unknown,
): { operations: unknown[]; failOnErrors: number } {
  const { limits } = service;
  if (!isObject(body)) throw invalidSyntax('The Bulk body must be a BulkRequest object.');
  const schemas = body['schemas'];
  if (Array.isArray(schemas) && !schemas.includes(BULK_REQUEST_SCHEMA)) {
    throw invalidSyntax(`A Bulk body must have the schema "${BULK_REQUEST_SCHEMA}".`);
  }
  if (JSON.stringify(body).length > limits.bulkMaxPayloadSize) {
    throw new ScimError(413, null, `Bulk requests are limited to ${limits.bulkMaxPayloadSize} bytes.`, {
      code: 'SCIM_PAYLOAD_TOO_LARGE',
    });
  }
  const operations = body['Operations'];
  if (!Array.isArray(operations)) throw invalidSyntax('"Operations" must be an array.');
  if (operations.length > limits.bulkMaxOperations) {
    throw new ScimError(413, null, `Bulk requests are limited to ${limits.bulkMaxOperations} operations.`, {
      code: 'SCIM_PAYLOAD_TOO_LARGE',
    });
  }
  const failOnErrors =
    body['failOnErrors'] === undefined ? Infinity : integer(body['failOnErrors'], 'failOnErrors', Infinity);
  return { operations, failOnErrors };
}

/** Replaces each `bulkId:<id>` reference with the id its earlier POST created. */
function resolver(ids: ReadonlyMap<string, string>): (value: unknown) => unknown {
  const resolve = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(/bulkId:([\w.-]+)/g, (_, bulkId: string) => {
        const id = ids.get(bulkId);
        if (!id)
          throw new ScimError(
            409,
            'invalidValue',
            `bulkId "${bulkId}" is not defined by an earlier operation.`,
          );
        return id;
      });
    }
    if (Array.isArray(value)) return value.map(resolve);
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    return value;
  };
  return resolve;
}

async function runOperation(
  service: ServiceContext,
  route: Route,
  resolve: (value: unknown) => unknown,
  op: Json,
  method: string,
  bulkId: string | undefined,
): Promise<ScimResponse> {
  try {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method))
      throw invalidSyntax('Each operation needs a method POST, PUT, PATCH or DELETE.');
    if (method === 'POST' && !bulkId) throw invalidSyntax('A POST operation needs a bulkId.');
    const path = resolve(op['path']);
    if (typeof path !== 'string' || !/^\/(Users|Groups)(\/[^/]+)?$/i.test(path))
      throw invalidSyntax('"path" must be /Users, /Groups or one of their resources.');
    const headers: Headers = typeof op['version'] === 'string' ? { 'if-match': op['version'] } : {};
    return await route({ method, path, headers, body: resolve(op['data']) });
  } catch (error) {
    return toResponse(service, error, { method, path: String(op['path']) });
  }
}

export async function bulk(
  service: ServiceContext,
  request: ScimRequest,
  route: Route,
): Promise<ScimResponse> {
  const { operations, failOnErrors } = readOperations(service, request.body);
  const ids = new Map<string, string>();
  const resolve = resolver(ids);
  const results: Json[] = [];
  let errors = 0;
  for (const raw of operations) {
    if (errors >= failOnErrors) break;
    const op = isObject(raw) ? raw : {};
    const method = String(op['method'] ?? '').toUpperCase();
    const bulkId = typeof op['bulkId'] === 'string' ? op['bulkId'] : undefined;
    const result: Json = { method };
    if (bulkId) result['bulkId'] = bulkId;
    const outcome = await runOperation(service, route, resolve, op, method, bulkId);
    const status = outcome.status;
    result['status'] = String(status);
    if (outcome.headers['Location']) result['location'] = outcome.headers['Location'];
    if (outcome.headers['ETag']) result['version'] = outcome.headers['ETag'];
    if (status >= 400) {
      errors++;
      result['response'] = outcome.body;
    } else if (method === 'POST' && bulkId && isObject(outcome.body)) {
      ids.set(bulkId, String(outcome.body['id']));
    }
    results.push(result);
  }
  return response(200, { schemas: [BULK_RESPONSE_SCHEMA], Operations: results });
}
