import {
  ENTERPRISE_USER_SCHEMA,
  getIgnoringCase,
  tryNormaliseEmail,
  type GroupMember,
  type ScimResourceRecord,
} from '@jit-sso/core';
import { GROUP_SCHEMA, USER_SCHEMA } from './discovery.js';
import { invalidSyntax, invalidValue } from './errors.js';
import { parseAttributePath } from './filter.js';
import { INPUT_LIMITS, checkName, checkStored } from './limits.js';
import { checkResource } from './validate.js';

type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Keys the service owns; whatever a directory sends for them is not stored in `data`. */
const USER_OWN = new Set(['id', 'meta', 'schemas', 'username', 'externalid', 'active', 'groups', 'password']);
const GROUP_OWN = new Set(['id', 'meta', 'schemas', 'displayname', 'externalid', 'members']);

/** Entra ID sends booleans as "True"/"False" strings. */
export function readBoolean(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw invalidValue(`"${field}" must be a boolean.`);
}

/** Coerces `primary` flags of multi-valued elements ("True" → true), recursively through extensions. */
function normaliseData(data: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(data)) {
    if (Array.isArray(value)) {
      out[key] = value.map((element) => {
        if (!isObject(element)) return element;
        const copy: Json = { ...element };
        for (const k of Object.keys(copy)) {
          if (k.toLowerCase() === 'primary' && typeof copy[k] === 'string')
            copy[k] = readBoolean(copy[k], `${key}.primary`);
        }
        return copy;
      });
    } else if (isObject(value) && /^urn:/i.test(key)) {
      out[key] = normaliseData(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function readExternalId(body: Json): string | null {
  const value = getIgnoringCase(body, 'externalId');
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidValue('"externalId" must be a string.');
  checkName(value, 'externalId', INPUT_LIMITS.externalIdLength);
  return value;
}

export interface UserInput {
  userName: string;
  externalId: string | null;
  active: boolean;
  data: Json;
}

export function readUser(body: unknown): UserInput {
  if (!isObject(body)) throw invalidSyntax('A User must be a JSON object.');
  const userName = getIgnoringCase(body, 'userName');
  if (typeof userName !== 'string' || !userName.trim()) throw invalidValue('"userName" is required.');
  checkName(userName, 'userName', INPUT_LIMITS.userNameLength);
  const activeRaw = getIgnoringCase(body, 'active');
  const active = activeRaw === undefined || activeRaw === null ? true : readBoolean(activeRaw, 'active');
  const externalId = readExternalId(body);
  checkResource(body, 'User');
  const data: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (!USER_OWN.has(key.toLowerCase())) data[key] = value;
  }
  const input = { userName: userName.trim(), externalId, active, data: normaliseData(data) };
  checkProfile(input);
  checkStored(input.data, 'User');
  return input;
}

/** Where each attribute of the tenant user comes from, to name it in an error. */
const PROFILE_SOURCES: Record<string, string> = {
  firstName: 'name.givenName',
  lastName: 'name.familyName',
  displayName: 'displayName',
  ...Object.fromEntries(
    ['employeeNumber', 'department', 'costCenter', 'organization', 'division'].map((f) => [
      f,
      `${ENTERPRISE_USER_SCHEMA}:${f}`,
    ]),
  ),
};

/** The attributes copied onto the tenant user stay within their limit. */
function checkProfile(input: UserInput): void {
  for (const [field, value] of Object.entries(userAttributes(input))) {
    if (typeof value === 'string' && value.length > INPUT_LIMITS.profileValueLength)
      throw invalidValue(
        `"${PROFILE_SOURCES[field] ?? field}" is longer than ${INPUT_LIMITS.profileValueLength} characters.`,
      );
  }
}

export interface GroupInput {
  displayName: string;
  externalId: string | null;
  members: GroupMember[];
  /**
   * Ids of members sent as plain strings instead of `{ "value": id }`. Microsoft's validator sends
   * such values and expects them ignored; every other member must name a user of the directory.
   */
  plainMembers: ReadonlySet<string>;
  data: Json;
}

export function readMembers(value: unknown): { members: GroupMember[]; plain: Set<string> } {
  const members = new Map<string, GroupMember>();
  const plain = new Set<string>();
  if (value === undefined || value === null) return { members: [], plain };
  const list = Array.isArray(value) ? value : [value];
  for (const element of list) {
    let id: unknown = element;
    let display: unknown = null;
    if (isObject(element)) {
      id = getIgnoringCase(element, 'value');
      display = getIgnoringCase(element, 'display') ?? getIgnoringCase(element, 'displayName') ?? null;
    }
    if (typeof id !== 'string' || !id)
      throw invalidValue('Each member needs a "value" with the member\'s id.');
    checkName(id, 'members.value', INPUT_LIMITS.groupDisplayNameLength);
    if (typeof display === 'string')
      checkName(display, 'members.display', INPUT_LIMITS.groupDisplayNameLength);
    if (typeof element === 'string') plain.add(id);
    if (!members.has(id))
      members.set(id, { value: id, display: typeof display === 'string' ? display : null });
  }
  return { members: [...members.values()], plain };
}

export function readGroup(body: unknown): GroupInput {
  if (!isObject(body)) throw invalidSyntax('A Group must be a JSON object.');
  const displayName = getIgnoringCase(body, 'displayName');
  if (typeof displayName !== 'string' || !displayName.trim())
    throw invalidValue('"displayName" is required.');
  checkName(displayName, 'displayName', INPUT_LIMITS.groupDisplayNameLength);
  const externalId = readExternalId(body);
  checkResource(body, 'Group');
  const data: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (!GROUP_OWN.has(key.toLowerCase())) data[key] = value;
  }
  checkStored(data, 'Group');
  const { members, plain } = readMembers(getIgnoringCase(body, 'members'));
  return { displayName: displayName.trim(), externalId, members, plainMembers: plain, data };
}

/** The address the tenant user gets: the primary email, else a work email, else the first, else userName. */
export function chooseEmail(input: UserInput): string | null {
  const emails = getIgnoringCase(input.data, 'emails');
  if (Array.isArray(emails)) {
    const objects = emails.filter(isObject);
    const ordered = [
      ...objects.filter((e) => getIgnoringCase(e, 'primary') === true),
      ...objects.filter((e) => String(getIgnoringCase(e, 'type') ?? '').toLowerCase() === 'work'),
      ...objects,
    ];
    for (const element of ordered) {
      const email = tryNormaliseEmail(getIgnoringCase(element, 'value'));
      if (email) return email;
    }
  }
  return tryNormaliseEmail(input.userName);
}

/** The profile fields the app sees on the tenant user (the same names the login mappings use). */
export function userAttributes(input: UserInput): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  const name = getIgnoringCase(input.data, 'name');
  const given = getIgnoringCase(name, 'givenName');
  const family = getIgnoringCase(name, 'familyName');
  const display = getIgnoringCase(input.data, 'displayName');
  if (typeof given === 'string' && given) attributes['firstName'] = given;
  if (typeof family === 'string' && family) attributes['lastName'] = family;
  if (typeof display === 'string' && display) attributes['displayName'] = display;
  const enterprise = getIgnoringCase(input.data, ENTERPRISE_USER_SCHEMA);
  for (const field of ['employeeNumber', 'department', 'costCenter', 'organization', 'division']) {
    const value = getIgnoringCase(enterprise, field);
    if (typeof value === 'string' && value) attributes[field] = value;
  }
  return attributes;
}

export const etagOf = (record: ScimResourceRecord) => `W/"${record.version}"`;

export interface RenderContext {
  baseUrl: string;
}

export function renderUser(
  record: ScimResourceRecord,
  active: boolean,
  groups: readonly ScimResourceRecord[] | null,
  context: RenderContext,
): Json {
  const schemas = [USER_SCHEMA];
  if (Object.keys(record.data).some((k) => k.toLowerCase() === ENTERPRISE_USER_SCHEMA.toLowerCase())) {
    schemas.push(ENTERPRISE_USER_SCHEMA);
  }
  const location = `${context.baseUrl}/Users/${record.id}`;
  const body: Json = { schemas, id: record.id };
  if (record.externalId !== null) body['externalId'] = record.externalId;
  body['userName'] = record.name;
  Object.assign(body, record.data);
  body['active'] = active;
  if (groups) {
    body['groups'] = groups.map((g) => ({
      value: g.id,
      $ref: `${context.baseUrl}/Groups/${g.id}`,
      display: g.name,
      type: 'direct',
    }));
  }
  body['meta'] = {
    resourceType: 'User',
    created: record.createdAt.toISOString(),
    lastModified: record.updatedAt.toISOString(),
    location,
    version: etagOf(record),
  };
  return body;
}

export function renderGroup(
  record: ScimResourceRecord,
  members: readonly GroupMember[] | null,
  context: RenderContext,
): Json {
  const body: Json = { schemas: [GROUP_SCHEMA], id: record.id };
  if (record.externalId !== null) body['externalId'] = record.externalId;
  body['displayName'] = record.name;
  Object.assign(body, record.data);
  if (members) {
    body['members'] = members.map((m) => ({
      value: m.value,
      $ref: `${context.baseUrl}/Users/${m.value}`,
      type: 'User',
      ...(m.display !== null ? { display: m.display } : {}),
    }));
  }
  body['meta'] = {
    resourceType: 'Group',
    created: record.createdAt.toISOString(),
    lastModified: record.updatedAt.toISOString(),
    location: `${context.baseUrl}/Groups/${record.id}`,
    version: etagOf(record),
  };
  return body;
}

/** Splits `attributes=`/`excludedAttributes=` lists; `emails[type eq "work"]` names `emails`. */
export function readAttributeList(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  const names: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (c === ',' && depth === 0) {
      names.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  names.push(current);
  return names
    .map((n) => n.trim().replace(/\[.*\]/, ''))
    .filter(Boolean)
    .map((n) => {
      parseAttributePath(n);
      return n;
    });
}

const ALWAYS = new Set(['id', 'schemas']);

function keysMatching(object: Json, lower: string): string[] {
  return Object.keys(object).filter((k) => k.toLowerCase() === lower);
}

/** Applies `attributes` (only these, plus id and schemas) or `excludedAttributes` to a rendered resource. */
export function project(resource: Json, attributes: string[] | null, excluded: string[] | null): Json {
  if (attributes && attributes.length) {
    const out: Json = {};
    for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key];
    for (const name of attributes) {
      const path = parseAttributePath(name);
      let source: Json = resource;
      let target: Json = out;
      if (path.schema !== null) {
        const [extKey] = keysMatching(resource, path.schema);
        if (!extKey || !isObject(resource[extKey])) continue;
        source = resource[extKey] as Json;
        target = (out[extKey] as Json | undefined) ?? ((out[extKey] = {}) as Json);
      }
      for (const key of keysMatching(source, path.name)) {
        const value = source[key];
        if (path.sub === null) {
          target[key] = value;
        } else if (Array.isArray(value)) {
          target[key] = value.map((element) =>
            isObject(element)
              ? Object.fromEntries(keysMatching(element, path.sub!).map((k) => [k, element[k]]))
              : element,
          );
        } else if (isObject(value)) {
          const existing = isObject(target[key]) ? (target[key] as Json) : {};
          for (const k of keysMatching(value, path.sub)) existing[k] = value[k];
          target[key] = existing;
        }
      }
    }
    return out;
  }
  if (excluded && excluded.length) {
    const out: Json = structuredClone(resource);
    for (const name of excluded) {
      const path = parseAttributePath(name);
      if (path.schema === null && ALWAYS.has(path.name)) continue;
      let holder: Json = out;
      if (path.schema !== null) {
        const [extKey] = keysMatching(out, path.schema);
        if (!extKey || !isObject(out[extKey])) continue;
        holder = out[extKey] as Json;
      }
      for (const key of keysMatching(holder, path.name)) {
        if (path.sub === null) delete holder[key];
        else {
          const value = holder[key];
          const strip = (element: unknown) => {
            if (isObject(element)) for (const k of keysMatching(element, path.sub!)) delete element[k];
          };
          if (Array.isArray(value)) value.forEach(strip);
          else strip(value);
        }
      }
    }
    return out;
  }
  return resource;
}
