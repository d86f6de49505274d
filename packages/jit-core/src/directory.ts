import type { IdentityStore, StoreReader, StoreTransaction } from './store.js';

/**
 * The directory part of the store contract: what a SCIM 2.0 service (RFC 7643/7644) keeps besides
 * the users themselves. A directory belongs to one tenant and authenticates with hashed bearer
 * tokens. Its User resources are the tenant's users (the resource id is the user id); the SCIM
 * representation (userName, attributes the app does not model, version) and the groups with their
 * members live beside them.
 *
 * Filters reach the store as a small neutral tree (`ScimFilter`), which a database store translates
 * to SQL and the memory store evaluates with `matchesFilter`. Both follow the rules written here.
 */

export type ScimResourceType = 'User' | 'Group';

export interface DirectoryRecord {
  readonly id: string;
  readonly tenantId: string;
  /** Shown to administrators. */
  readonly name: string;
  /** The connection whose role rules map this directory's groups to roles, if any. */
  readonly connectionId: string | null;
  readonly createdAt: Date;
}

export interface DirectoryTokenRecord {
  readonly id: string;
  readonly directoryId: string;
  /** SHA-256 of the token, hex. The token itself is never stored. */
  readonly hash: string;
  readonly label: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

/** A User or Group resource. For users, `id` is the id of the tenant user it represents. */
export interface ScimResourceRecord {
  readonly id: string;
  readonly directoryId: string;
  readonly type: ScimResourceType;
  /** `userName` of a User, `displayName` of a Group. Unique per directory and type, ignoring case, for users. */
  readonly name: string;
  readonly externalId: string | null;
  /** The resource as the directory sent it, minus `id`, `meta`, `schemas`, `members` and (users) `active`. */
  readonly data: Readonly<Record<string, unknown>>;
  /** Incremented by every change; the ETag is derived from it. */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /**
   * Users returned by `queryResources` only, optionally: whether the tenant user is active, read with
   * the resource so that a page costs one query rather than one per user.
   */
  readonly active?: boolean;
}

export interface NewScimResource {
  id: string;
  directoryId: string;
  type: ScimResourceType;
  name: string;
  externalId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface ScimResourcePatch {
  name?: string;
  externalId?: string | null;
  data?: Record<string, unknown>;
  updatedAt: Date;
}

export interface GroupMember {
  /** The member's resource id (a User of the same directory). */
  readonly value: string;
  readonly display: string | null;
}

// ---------------------------------------------------------------------------------------------
// Filters

/**
 * An attribute reference, lower-cased (SCIM attribute names are case-insensitive). `schema` is the
 * lower-cased extension URN for extension attributes, `null` for core attributes (a core schema URN
 * prefix is dropped by the parser).
 */
export interface AttributePath {
  readonly schema: string | null;
  readonly name: string;
  readonly sub: string | null;
}

export type ScimValue = string | number | boolean | null;

export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

export type ScimFilter =
  | { readonly op: 'and' | 'or'; readonly filters: readonly ScimFilter[] }
  | { readonly op: 'not'; readonly filter: ScimFilter }
  | { readonly op: 'pr'; readonly attribute: AttributePath }
  | { readonly op: CompareOperator; readonly attribute: AttributePath; readonly value: ScimValue }
  /** `emails[type eq "work" and value co "@acme"]`: one element of `attribute` satisfies `filter`. */
  | { readonly op: 'has'; readonly attribute: AttributePath; readonly filter: ScimFilter };

export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/**
 * Attributes compared case-sensitively (RFC 7643 `caseExact: true`); every other string attribute is
 * compared ignoring case (`toLowerCase()` in JavaScript, so a SQL store compares values it lower-cased
 * in JavaScript, never the database's `lower()`).
 */
export function isCaseExact(path: AttributePath): boolean {
  if (path.schema !== null) return false;
  return (path.name === 'id' || path.name === 'externalid') && path.sub === null;
}

/** `meta.created` and `meta.lastModified` compare as instants; filter values are parsed as dates. */
export function isDateAttribute(path: AttributePath): boolean {
  return (
    path.schema === null && path.name === 'meta' && (path.sub === 'created' || path.sub === 'lastmodified')
  );
}

export function attributeKey(path: AttributePath): string {
  const base = path.sub === null ? path.name : `${path.name}.${path.sub}`;
  return path.schema === null ? base : `${path.schema}:${base}`;
}

export interface ResourceQuery {
  directoryId: string;
  type: ScimResourceType;
  filter?: ScimFilter;
  sortBy?: AttributePath;
  sortOrder?: 'ascending' | 'descending';
  /** Zero-based. */
  offset: number;
  limit: number;
}

export interface ResourcePage {
  readonly total: number;
  readonly resources: readonly ScimResourceRecord[];
}

/**
 * The JSON a filter is evaluated against: the stored data plus `id`, `externalId`, the name
 * attribute, `active` (users: from the tenant user's status), `meta.created`/`meta.lastModified`
 * (ISO strings), `members` (groups: value, display and type `User`) and `groups` (users: the groups of the
 * directory that have the user as a member, with value, display and type `direct`).
 */
export function filterView(
  record: ScimResourceRecord,
  extra: {
    active?: boolean;
    members?: readonly GroupMember[];
    groups?: readonly Pick<ScimResourceRecord, 'id' | 'name'>[];
  },
): Record<string, unknown> {
  const view: Record<string, unknown> = { ...record.data, id: record.id };
  if (record.externalId !== null) view['externalId'] = record.externalId;
  if (record.type === 'User') {
    view['userName'] = record.name;
    view['active'] = extra.active ?? true;
    view['groups'] = (extra.groups ?? []).map((g) => ({ value: g.id, display: g.name, type: 'direct' }));
  } else {
    view['displayName'] = record.name;
    view['members'] = (extra.members ?? []).map((m) => ({
      value: m.value,
      display: m.display ?? undefined,
      type: 'User',
    }));
  }
  view['meta'] = {
    resourceType: record.type,
    created: record.createdAt.toISOString(),
    lastModified: record.updatedAt.toISOString(),
  };
  return view;
}

// ---- evaluation (memory store, and the oracle for SQL translators' tests) ----

/** The own property of `object` whose name equals `name` ignoring case. */
export function getIgnoringCase(object: unknown, name: string): unknown {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return undefined;
  const lower = name.toLowerCase();
  for (const key of Object.keys(object)) {
    if (key.toLowerCase() === lower) return (object as Record<string, unknown>)[key];
  }
  return undefined;
}

function isComplex(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The top-level value of an attribute (`emails`, `name`, the extension's `manager`). */
function topValue(resource: Record<string, unknown>, path: AttributePath): unknown {
  if (path.schema === null) {
    const direct = getIgnoringCase(resource, path.name);
    if (direct !== undefined) return direct;
    // Extension attributes are also reachable by their bare name only when the core has no such name.
    return undefined;
  }
  return getIgnoringCase(getIgnoringCase(resource, path.schema), path.name);
}

/**
 * The simple values an attribute reference yields: each element of a multi-valued attribute, the
 * sub-attribute of each, or the `value` sub-attribute of complex elements when none is named.
 */
export function attributeValues(resource: Record<string, unknown>, path: AttributePath): unknown[] {
  const top = topValue(resource, path);
  const elements = Array.isArray(top) ? top : top === undefined ? [] : [top];
  const out: unknown[] = [];
  for (const element of elements) {
    let value: unknown = element;
    if (path.sub !== null) value = getIgnoringCase(element, path.sub);
    else if (isComplex(element)) value = getIgnoringCase(element, 'value');
    if (Array.isArray(value)) out.push(...value);
    else if (value !== undefined) out.push(value);
  }
  return out;
}

function present(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (isComplex(value)) return Object.values(value).some(present);
  return true;
}

/** Milliseconds since the epoch of an ISO date, or `null`. */
export function parseInstant(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  // Fractions beyond milliseconds (.NET sends seven digits) are cut to what Date understands.
  const trimmed = value.trim().replace(/(\.\d{3})\d+/, '$1');
  if (!/^\d{4}-\d{2}-\d{2}(T|$)/.test(trimmed)) return null;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? null : ms;
}

/** `eq ne gt ge lt le` on two numbers (instants compare as epoch milliseconds). */
function compareOrdered(op: CompareOperator, a: number, b: number): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    default:
      return false;
  }
}

/** One comparison of an attribute value with a filter value, by the rules above. */
export function compareValue(
  op: CompareOperator,
  path: AttributePath,
  actual: unknown,
  expected: ScimValue,
): boolean {
  if (expected === null) return false;
  if (isDateAttribute(path)) {
    const a = parseInstant(actual);
    const b = parseInstant(expected);
    if (a === null || b === null) return false;
    return compareOrdered(op, a, b);
  }
  if (typeof expected === 'boolean') {
    return (
      typeof actual === 'boolean' &&
      (op === 'eq' ? actual === expected : op === 'ne' ? actual !== expected : false)
    );
  }
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return false;
    return compareOrdered(op, actual, expected);
  }
  if (typeof actual !== 'string') return false;
  const exact = isCaseExact(path);
  const a = exact ? actual : actual.toLowerCase();
  const b = exact ? expected : expected.toLowerCase();
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
  }
}

/**
 * Whether `resource` (a `filterView`) satisfies `filter`:
 * - a comparison on a multi-valued attribute holds when it holds for any value;
 * - `ne` is the negation of `eq` (it also holds when the attribute is absent);
 * - `co`/`sw`/`ew` apply to strings only; a value of another type never matches;
 * - `eq null` never matches (use `not (x pr)`), `pr` means present and not empty (a complex value is
 *   present when one of its sub-attributes is);
 * - a complex value without a sub-attribute named compares by its `value` sub-attribute.
 */
export function matchesFilter(resource: Record<string, unknown>, filter: ScimFilter): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => matchesFilter(resource, f));
    case 'or':
      return filter.filters.some((f) => matchesFilter(resource, f));
    case 'not':
      return !matchesFilter(resource, filter.filter);
    case 'pr': {
      // A complex attribute is present when any of its sub-attributes is.
      if (filter.attribute.sub !== null) return attributeValues(resource, filter.attribute).some(present);
      const top = topValue(resource, filter.attribute);
      return (Array.isArray(top) ? top : [top]).some(present);
    }
    case 'has': {
      const top = topValue(resource, filter.attribute);
      const elements = Array.isArray(top) ? top : top === undefined ? [] : [top];
      return elements.some((element) => isComplex(element) && matchesFilter(element, filter.filter));
    }
    case 'ne':
      return !attributeValues(resource, filter.attribute).some((v) =>
        compareValue('eq', filter.attribute, v, filter.value),
      );
    default: {
      const { op, attribute, value } = filter;
      return attributeValues(resource, attribute).some((v) => compareValue(op, attribute, v, value));
    }
  }
}

/** Orders two views by `sortBy`: strings ignoring case, missing values last (first when descending). */
export function compareForSort(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  sortBy: AttributePath,
): number {
  const pick = (view: Record<string, unknown>): string | number | null => {
    const value = attributeValues(view, sortBy)[0];
    if (isDateAttribute(sortBy)) return parseInstant(value);
    if (typeof value === 'string') return isCaseExact(sortBy) ? value : value.toLowerCase();
    if (typeof value === 'number') return value;
    if (typeof value === 'boolean') return value ? 1 : 0;
    return null;
  };
  const x = pick(a);
  const y = pick(b);
  if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
  if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// The contract

export interface DirectoryReader {
  findDirectory(directoryId: string): Promise<DirectoryRecord | null>;
  listDirectories(tenantId: string): Promise<DirectoryRecord[]>;
  /** The token with this SHA-256 hash, revoked or not. */
  findTokenByHash(hash: string): Promise<DirectoryTokenRecord | null>;
  /**
   * The token with this SHA-256 hash, revoked or not, with the directory it opens: what every SCIM
   * request authenticates with, in one read.
   */
  findTokenWithDirectory(
    hash: string,
  ): Promise<{ token: DirectoryTokenRecord; directory: DirectoryRecord } | null>;
  listTokens(directoryId: string): Promise<DirectoryTokenRecord[]>;
  findResource(directoryId: string, type: ScimResourceType, id: string): Promise<ScimResourceRecord | null>;
  /** The User resource with this userName, compared ignoring case. */
  findUserByUserName(directoryId: string, userName: string): Promise<ScimResourceRecord | null>;
  /** The User resource of a tenant user in any directory. */
  findResourceOfUser(userId: string): Promise<ScimResourceRecord | null>;
  /**
   * Resources matching the query, with the total before paging. Sorted by `sortBy` as
   * `compareForSort` says, then by id; by id alone when no `sortBy` is given.
   */
  queryResources(query: ResourceQuery): Promise<ResourcePage>;
  /** The members of a group, ordered by value. */
  listMembers(groupId: string): Promise<GroupMember[]>;
  /** The groups (of the same directory) a user resource belongs to, ordered by id. */
  listGroupsOfMember(directoryId: string, memberId: string): Promise<ScimResourceRecord[]>;
}

/**
 * Writes. `insertResource` and `updateResource` throw `StoreConflictError('other')` when a User's
 * userName is taken in the directory (ignoring case); `updateResource` increments `version`.
 * Deleting a resource removes its memberships (as member and as group).
 */
export interface DirectoryTransaction extends StoreTransaction, DirectoryReader {
  /**
   * The resource, read under a lock on it that the transaction holds until it ends: another
   * transaction locking the same resource waits, then reads what this one committed (or null when it
   * was deleted). Every write to a resource reads it this way, so that concurrent writes compose
   * instead of overwriting each other and an If-Match is compared with the version it replaces.
   */
  lockResource(directoryId: string, type: ScimResourceType, id: string): Promise<ScimResourceRecord | null>;
  /**
   * The resources of `type` with these ids in the directory (those that exist, in no set order),
   * read under a shared lock held until the transaction ends: none of them can be changed or
   * deleted until it commits, so a membership written for them never names a deleted resource.
   */
  shareResources(
    directoryId: string,
    type: ScimResourceType,
    ids: readonly string[],
  ): Promise<ScimResourceRecord[]>;
  insertDirectory(directory: DirectoryRecord): Promise<DirectoryRecord>;
  insertToken(token: Omit<DirectoryTokenRecord, 'revokedAt'>): Promise<DirectoryTokenRecord>;
  revokeToken(tokenId: string, at: Date): Promise<void>;
  insertResource(resource: NewScimResource): Promise<ScimResourceRecord>;
  updateResource(id: string, patch: ScimResourcePatch): Promise<ScimResourceRecord>;
  deleteResource(id: string): Promise<void>;
  /**
   * Adds members (ignoring ones already present) and removes others, whose values are compared
   * ignoring case (the schema's `members.value` is not case-exact); both lists may be empty. Returns
   * what changed. Its cost follows the lists, not the size of the group: a member added to or
   * removed from a group of 100,000 costs what it costs in a group of ten.
   */
  changeMembers(
    groupId: string,
    add: readonly GroupMember[],
    remove: readonly string[],
  ): Promise<MembershipChange>;
  /**
   * Makes `members` the group's members (a PUT, or a PATCH that replaces them) and returns what
   * changed. It reads the stored members that are not in `members` (those it removes) and the
   * requested ones among the stored (an indexed read), never the whole list to compare it.
   */
  replaceMembers(groupId: string, members: readonly GroupMember[]): Promise<MembershipChange>;
}

/** What a change of a group's members did: the values it added and the stored values it removed. */
export interface MembershipChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export interface DirectoryStore extends IdentityStore, DirectoryReader {
  /** Like `transaction`, with the directory writes too; the same all-or-nothing rules. */
  directoryTransaction<T>(work: (tx: DirectoryTransaction) => Promise<T>): Promise<T>;
}

export function isDirectoryStore(store: StoreReader): store is DirectoryStore {
  return typeof (store as Partial<DirectoryStore>).directoryTransaction === 'function';
}
