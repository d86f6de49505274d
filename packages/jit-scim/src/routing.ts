import type { ResourceQuery, ScimResourceRecord, ScimResourceType } from '@jit-sso/core';
import { bulk } from './bulk.js';
import {
  etagMatches,
  header,
  integer,
  pathSegments,
  queryValue,
  type Context,
  type Json,
  type ServiceContext,
} from './context.js';
import { LIST_SCHEMA, resourceTypeDocuments, schemaDocuments, serviceProviderConfig } from './discovery.js';
import { ScimError, invalidValue, notFound } from './errors.js';
import { parseAttributePath, parseFilter } from './filter.js';
import { changeGroup, createGroup, deleteGroup, patchGroup } from './groups.js';
import { unstorable } from './limits.js';
import { applyPatch, readPatchRequest } from './patch.js';
import {
  etagOf,
  isObject,
  project,
  readAttributeList,
  readGroup,
  readUser,
  renderGroup,
  renderUser,
} from './resources.js';
import { response } from './responses.js';
import type { ScimRequest, ScimResponse } from './types.js';
import { changeUser, createUser, deleteUser, userDocument } from './users.js';

interface ListParams {
  filter?: string;
  sortBy?: string;
  sortOrder?: string;
  startIndex?: unknown;
  count?: unknown;
  attributes?: unknown;
  excludedAttributes?: unknown;
}

async function renderOne(
  service: ServiceContext,
  ctx: Context,
  record: ScimResourceRecord,
  detailed: boolean,
): Promise<Json> {
  const { store, render } = service;
  if (record.type === 'User') {
    const active = record.active ?? (await store.findUserById(record.id))?.status === 'active';
    const groups = detailed ? await store.listGroupsOfMember(ctx.directory.id, record.id) : null;
    return renderUser(record, active, groups, render);
  }
  return renderGroup(record, await store.listMembers(record.id), render);
}

/** Whether a response projected by `attributes`/`excludedAttributes` shows a group's members. */
function wantsMembers(attributes: string[] | null, excluded: string[] | null): boolean {
  if (excluded?.some((n) => n.toLowerCase() === 'members')) return false;
  return attributes === null || attributes.some((n) => n.toLowerCase().startsWith('members'));
}

function listParams(request: ScimRequest): ListParams {
  if (request.method.toUpperCase() === 'POST') {
    const body = isObject(request.body) ? request.body : {};
    return {
      filter: body['filter'] as string | undefined,
      sortBy: body['sortBy'] as string | undefined,
      sortOrder: body['sortOrder'] as string | undefined,
      startIndex: body['startIndex'],
      count: body['count'],
      attributes: body['attributes'],
      excludedAttributes: body['excludedAttributes'],
    };
  }
  const q = (name: string) => queryValue(request.query, name);
  return {
    filter: q('filter'),
    sortBy: q('sortBy'),
    sortOrder: q('sortOrder'),
    startIndex: q('startIndex'),
    count: q('count'),
    attributes: q('attributes'),
    excludedAttributes: q('excludedAttributes'),
  };
}

async function list(
  service: ServiceContext,
  ctx: Context,
  types: ScimResourceType[],
  params: ListParams,
): Promise<ScimResponse> {
  const { limits } = service;
  const startIndex = Math.max(1, integer(params.startIndex, 'startIndex', 1));
  const count = Math.min(Math.max(0, integer(params.count, 'count', limits.maxResults)), limits.maxResults);
  if (params.filter !== undefined && typeof params.filter !== 'string')
    throw invalidValue('"filter" must be a string.');
  const filter = params.filter && params.filter.trim() ? parseFilter(params.filter) : undefined;
  const sortBy =
    typeof params.sortBy === 'string' && params.sortBy ? parseAttributePath(params.sortBy) : undefined;
  const sortOrder =
    typeof params.sortOrder === 'string' && params.sortOrder.toLowerCase() === 'descending'
      ? 'descending'
      : 'ascending';
  const attributes = readAttributeList(params.attributes);
  const excluded = readAttributeList(params.excludedAttributes);
  let offset = startIndex - 1;
  let remaining = count;
  let total = 0;
  const rendered: Json[] = [];
  for (const type of types) {
    const query: ResourceQuery = { directoryId: ctx.directory.id, type, offset, limit: remaining };
    if (filter) query.filter = filter;
    if (sortBy) {
      query.sortBy = sortBy;
      query.sortOrder = sortOrder;
    }
    const page = await service.store.queryResources(query);
    total += page.total;
    offset = Math.max(0, offset - page.total);
    remaining -= page.resources.length;
    const skipMembers = !wantsMembers(attributes, excluded);
    for (const record of page.resources) {
      const resource =
        record.type === 'Group' && skipMembers
          ? renderGroup(record, null, service.render)
          : await renderOne(service, ctx, record, false);
      rendered.push(project(resource, attributes, excluded));
    }
  }
  return response(200, {
    schemas: [LIST_SCHEMA],
    totalResults: total,
    startIndex,
    itemsPerPage: rendered.length,
    Resources: rendered,
  });
}

async function getOne(
  service: ServiceContext,
  ctx: Context,
  type: ScimResourceType,
  id: string,
  request: ScimRequest,
): Promise<ScimResponse> {
  const record = await service.store.findResource(ctx.directory.id, type, id);
  if (!record) throw notFound(`${type} "${id}" not found.`);
  const etag = etagOf(record);
  const ifNoneMatch = header(request.headers, 'if-none-match');
  if (ifNoneMatch && etagMatches(ifNoneMatch, etag)) return response(304, undefined, { ETag: etag });
  const params = listParams({ ...request, method: 'GET' });
  const resource = await renderOne(service, ctx, record, true);
  return response(
    200,
    project(resource, readAttributeList(params.attributes), readAttributeList(params.excludedAttributes)),
    {
      Location: `${service.baseUrl}/${type}s/${id}`,
      ETag: etag,
    },
  );
}

async function written(
  service: ServiceContext,
  ctx: Context,
  record: ScimResourceRecord,
  request: ScimRequest,
  asPatch: boolean,
): Promise<ScimResponse> {
  const headers = { ETag: etagOf(record), Location: `${service.baseUrl}/${record.type}s/${record.id}` };
  const attributes = readAttributeList(queryValue(request.query, 'attributes'));
  const excluded = readAttributeList(queryValue(request.query, 'excludedAttributes'));
  // PATCH answers 204 (RFC 7644 §3.5.2) unless the client asked for attributes back: a group's
  // change then costs what the change costs, not a read of all its members.
  if (asPatch && !attributes && !excluded) return response(204, undefined, headers);
  const resource =
    record.type === 'Group' && !wantsMembers(attributes, excluded)
      ? renderGroup(record, null, service.render)
      : await renderOne(service, ctx, record, true);
  return response(200, project(resource, attributes, excluded), headers);
}

/** PUT and PATCH of one resource. */
async function replaceOrPatch(
  service: ServiceContext,
  ctx: Context,
  type: ScimResourceType,
  id: string,
  request: ScimRequest,
  asPatch: boolean,
): Promise<ScimResponse> {
  if (!asPatch) {
    if (type === 'User') {
      const input = readUser(request.body);
      const { record } = await changeUser(service, ctx, id, request, () => input);
      return written(service, ctx, record, request, false);
    }
    const input = readGroup(request.body);
    const record = await changeGroup(service, ctx, id, request, () => ({
      ...input,
      members: { kind: 'replace', members: input.members, plain: input.plainMembers },
    }));
    return written(service, ctx, record, request, false);
  }
  const operations = readPatchRequest(request.body);
  if (type === 'User') {
    const { record } = await changeUser(service, ctx, id, request, (current, user) =>
      readUser(applyPatch(userDocument(current, user), operations)),
    );
    return written(service, ctx, record, request, true);
  }
  const record = await changeGroup(service, ctx, id, request, (tx, current) =>
    patchGroup(tx, current, operations),
  );
  return written(service, ctx, record, request, true);
}

/** Answers a request of the directory `ctx` opened (the Bulk operations included). */
export async function route(
  service: ServiceContext,
  ctx: Context,
  request: ScimRequest,
  segments = pathSegments(request.path),
): Promise<ScimResponse> {
  const method = request.method.toUpperCase();
  const [first, second, third] = segments;
  const endpoint = first?.toLowerCase();
  if (third !== undefined) throw notFound(`No endpoint ${request.path}.`);
  if (endpoint === '.search' && !second && method === 'POST') {
    return list(service, ctx, ['User', 'Group'], listParams(request));
  }
  if (endpoint === 'bulk' && !second && method === 'POST')
    return bulk(service, request, (operation) => route(service, ctx, operation));
  const type: ScimResourceType | null =
    endpoint === 'users' ? 'User' : endpoint === 'groups' ? 'Group' : null;
  if (!type) throw notFound(`No endpoint ${request.path}.`);
  if (!second) {
    if (method === 'GET') return list(service, ctx, [type], listParams(request));
    if (method === 'POST')
      return type === 'User'
        ? createUser(service, ctx, request.body)
        : createGroup(service, ctx, request.body);
    throw new ScimError(405, null, `${method} is not allowed on /${first}.`, {
      code: 'SCIM_METHOD_NOT_ALLOWED',
    });
  }
  if (second === '.search') {
    if (method !== 'POST')
      throw new ScimError(405, null, 'Use POST for .search.', { code: 'SCIM_METHOD_NOT_ALLOWED' });
    return list(service, ctx, [type], listParams(request));
  }
  const id = second;
  // No resource has such an id, and PostgreSQL refuses a NUL even in a comparison.
  if (unstorable(id, true)) throw notFound(`${type} "${encodeURIComponent(id)}" not found.`);
  switch (method) {
    case 'GET':
      return getOne(service, ctx, type, id, request);
    case 'DELETE':
      return type === 'User' ? deleteUser(service, ctx, id, request) : deleteGroup(service, ctx, id, request);
    case 'PUT':
    case 'PATCH':
      return replaceOrPatch(service, ctx, type, id, request, method === 'PATCH');
    default:
      throw new ScimError(405, null, `${method} is not allowed here.`, { code: 'SCIM_METHOD_NOT_ALLOWED' });
  }
}

/** The discovery endpoints, answered without a token; null for any other request. */
export function discovery(
  service: ServiceContext,
  request: ScimRequest,
  segments: string[],
): ScimResponse | null {
  if (request.method.toUpperCase() !== 'GET') return null;
  const { baseUrl } = service;
  const [first, second] = segments;
  const endpoint = first?.toLowerCase();
  if (
    segments.length === 1 &&
    (endpoint === 'serviceproviderconfig' || endpoint === 'serviceconfiguration')
  ) {
    return response(200, serviceProviderConfig(baseUrl, service.limits));
  }
  const documents =
    endpoint === 'schemas'
      ? schemaDocuments(baseUrl)
      : endpoint === 'resourcetypes'
        ? resourceTypeDocuments(baseUrl)
        : null;
  if (!documents || segments.length > 2) return null;
  if (second) {
    const found = documents.find((d) => String(d['id']).toLowerCase() === second.toLowerCase());
    if (!found) throw notFound(`No ${first} entry "${second}".`);
    return response(200, found);
  }
  return response(200, {
    schemas: [LIST_SCHEMA],
    totalResults: documents.length,
    startIndex: 1,
    itemsPerPage: documents.length,
    Resources: documents,
  });
}
