import {
  auditEvent,
  JitError,
  SeatLimitReachedError,
  StoreConflictError,
  StoreError,
  rolesForGroups,
  uuidv7,
  type AuditAction,
  type Change,
  type Connection,
  type DirectoryRecord,
  type DirectoryStore,
  type DirectoryTransaction,
  type GroupMember,
  type MembershipChange,
  type Provisioner,
  type ResourceQuery,
  type RoleGrant,
  type ScimResourceRecord,
  type SeatAdmission,
  type ScimResourceType,
  type UserRecord,
  consoleLogger,
  logServerError,
  type JitLogger,
} from '@jit-sso/core';
import {
  BULK_REQUEST_SCHEMA,
  BULK_RESPONSE_SCHEMA,
  LIST_SCHEMA,
  resourceTypeDocuments,
  schemaDocuments,
  serviceProviderConfig,
  type Limits,
} from './discovery.js';
import {
  ScimError,
  invalidSyntax,
  invalidValue,
  notFound,
  preconditionFailed,
  tooManyAttempts,
  uniqueness,
} from './errors.js';
import { parseAttributePath, parseFilter } from './filter.js';
import { INPUT_LIMITS, checkBody, unstorable } from './limits.js';
import { splitGroupPatch, type MemberChange } from './members.js';
import { applyPatch, readPatchRequest, type PatchOperation } from './patch.js';
import {
  chooseEmail,
  etagOf,
  isObject,
  project,
  readAttributeList,
  readGroup,
  readUser,
  renderGroup,
  renderUser,
  userAttributes,
  type GroupInput,
  type UserInput,
} from './resources.js';
import { resolveToken } from './tokens.js';
import { createScimAuthThrottle, type ScimAuthThrottle } from './throttle.js';

type Json = Record<string, unknown>;
type Headers = Record<string, string | readonly string[] | undefined>;

export interface ScimRequest {
  method: string;
  /** The path below the SCIM base, e.g. `/Users/123` (a query string here is ignored; use `query`). */
  path: string;
  query?: Record<string, string | readonly string[] | undefined> | URLSearchParams;
  headers?: Headers;
  /** The parsed JSON body, if any. */
  body?: unknown;
  /**
   * The client's address (behind a proxy, the one the app trusts, e.g. Express's `req.ip`): failed
   * authentications are throttled per address.
   */
  clientAddress?: string;
}

export interface ScimResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

export interface ScimServiceOptions {
  store: DirectoryStore;
  /**
   * The engine (`createProvisioner`): reads the connection whose role rules map a directory's groups
   * to roles (`DirectoryRecord.connectionId`), and holds active users within the tenant's seat limit.
   * Without it, no roles are granted from groups and no seat limit applies.
   */
  provisioner?: Pick<Provisioner, 'getConnection'> & SeatAdmission;
  /** The public URL of the SCIM base, e.g. `https://app.example.com/scim/v2`; used in `Location` and `meta.location`. */
  baseUrl: string;
  /** Largest page (`count`) served; default 200. */
  maxResults?: number;
  bulk?: { maxOperations?: number; maxPayloadSize?: number };
  /** Where failures answered with a 5xx are logged, with their cause and never the request (default console). */
  logger?: JitLogger;
  /**
   * Limits failed authentications per client address and per tenant (429 with `Retry-After`).
   * Default: `createScimAuthThrottle()` in this process's memory; give one on Redis to share the
   * counts between copies of the app, or `false` to turn throttling off.
   */
  authThrottle?: ScimAuthThrottle | false;
  /** Called instead of `logger` with each failure answered with a 5xx (the answer has no details). */
  onError?: (error: unknown) => void;
  now?: () => Date;
}

export interface ScimService {
  handle(request: ScimRequest): Promise<ScimResponse>;
  readonly limits: Limits;
}

const CONTENT_TYPE = 'application/scim+json; charset=utf-8';
const PLACEHOLDER_DOMAIN = 'scim.invalid';
const NO_IDS: ReadonlySet<string> = new Set();
/** Runs of one write whose transaction the database ended as a deadlock victim. */
const DEADLOCK_ATTEMPTS = 5;

function header(headers: Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower)
      return Array.isArray(value) ? value.join(',') : (value as string | undefined);
  }
  return undefined;
}

function queryValue(query: ScimRequest['query'], name: string): string | undefined {
  if (!query) return undefined;
  if (query instanceof URLSearchParams) {
    for (const [key, value] of query) if (key.toLowerCase() === name.toLowerCase()) return value;
    return undefined;
  }
  for (const [key, value] of Object.entries(query)) {
    if (key.toLowerCase() === name.toLowerCase())
      return Array.isArray(value) ? value[0] : (value as string | undefined);
  }
  return undefined;
}

function etagMatches(list: string, etag: string): boolean {
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return list.split(',').some((t) => t.trim() === '*' || strip(t) === strip(etag));
}

function integer(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) throw invalidValue(`"${name}" must be an integer.`);
  return n;
}

/** The decoded segments of a request path (without its query). */
function pathSegments(path: string): string[] {
  return path.split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
}

function response(status: number, body?: unknown, extra: Record<string, string> = {}): ScimResponse {
  const headers: Record<string, string> = { ...extra };
  if (body !== undefined) headers['Content-Type'] = CONTENT_TYPE;
  return body === undefined ? { status, headers } : { status, headers, body };
}

function errorResponse(error: ScimError): ScimResponse {
  const extra: Record<string, string> =
    error.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="SCIM"' } : {};
  if (error.retryAfterSeconds !== null) extra['Retry-After'] = String(error.retryAfterSeconds);
  return response(error.status, error.toJSON(), extra);
}

/** Fields of driver errors that say what failed without carrying the statement's values. */
const ERROR_FIELDS = ['code', 'errno', 'sqlState', 'severity', 'routine'] as const;

/**
 * A copy of an error and its causes for the log: name, message, stack and the driver's codes, but
 * not a query's parameters or a constraint's `detail`, which hold the directory's data.
 */
function withoutValues(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return error === undefined || error === null ? error : String(error);
  const copy = new Error(error.message);
  copy.name = error.name;
  if (error.stack) copy.stack = error.stack;
  const source = error as unknown as Record<string, unknown>;
  for (const field of ERROR_FIELDS) {
    if (source[field] !== undefined) (copy as unknown as Record<string, unknown>)[field] = source[field];
  }
  const cause = source['driverError'] ?? error.cause;
  if (cause !== undefined && depth < 4) copy.cause = withoutValues(cause, depth + 1);
  return copy;
}

interface Context {
  directory: DirectoryRecord;
  connection: Connection | null;
}

interface ListParams {
  filter?: string;
  sortBy?: string;
  sortOrder?: string;
  startIndex?: unknown;
  count?: unknown;
  attributes?: unknown;
  excludedAttributes?: unknown;
}

/** Builds the HTTP-agnostic SCIM 2.0 service. Options are checked here, once. */
export function createScimService(options: ScimServiceOptions): ScimService {
  if (!options || typeof options.store?.directoryTransaction !== 'function') {
    throw new TypeError('createScimService needs a store that implements DirectoryStore.');
  }
  if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
    throw new TypeError(
      'createScimService needs baseUrl, the absolute URL of the SCIM base (e.g. https://app.example.com/scim/v2).',
    );
  }
  const { store, provisioner } = options;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? consoleLogger;
  const throttle = options.authThrottle === false ? null : (options.authThrottle ?? createScimAuthThrottle());
  const report = (error: unknown, status: number, request?: Pick<ScimRequest, 'method' | 'path'>) =>
    options.onError
      ? options.onError(error)
      : logServerError(logger, error, { method: request?.method, path: request?.path, status });
  const limits: Limits = Object.freeze({
    maxResults: options.maxResults ?? 200,
    bulkMaxOperations: options.bulk?.maxOperations ?? 1000,
    bulkMaxPayloadSize: options.bulk?.maxPayloadSize ?? 1_048_576,
    input: INPUT_LIMITS,
  });
  const render = { baseUrl };

  async function contextOf(directory: DirectoryRecord): Promise<Context> {
    let connection: Connection | null = null;
    if (directory.connectionId && provisioner)
      connection = await provisioner.getConnection(directory.connectionId);
    return { directory, connection };
  }

  function audit(
    tx: DirectoryTransaction,
    ctx: Context,
    action: AuditAction,
    fields: { userId?: string | null; reason?: string | null; changes?: Change[] },
  ): Promise<void> {
    return tx.appendAudit(
      auditEvent({
        at: now(),
        tenantId: ctx.directory.tenantId,
        actor: 'scim',
        action,
        connectionId: ctx.connection?.id ?? null,
        ...fields,
      }),
    );
  }

  // ---- users ----

  /**
   * The address the tenant user gets; a placeholder that never links when the address is someone
   * else's. `current` is the user's address now: keeping it needs no check, as a tenant's addresses
   * are unique.
   */
  async function emailFor(
    tx: DirectoryTransaction,
    ctx: Context,
    input: UserInput,
    userId: string,
    current?: string,
  ): Promise<string> {
    const wanted = chooseEmail(input);
    if (wanted && wanted === current) return wanted;
    if (wanted) {
      const holder = await tx.findUserByEmail(ctx.directory.tenantId, wanted);
      if (!holder || holder.id === userId) return wanted;
    }
    return `${userId}@${PLACEHOLDER_DOMAIN}`;
  }

  /** One more active user in the directory's tenant, within its seat limit (nothing is written otherwise). */
  async function admit(tx: DirectoryTransaction, ctx: Context): Promise<void> {
    await provisioner?.admitUser(tx, ctx.directory.tenantId);
  }

  async function setStatus(
    tx: DirectoryTransaction,
    ctx: Context,
    user: UserRecord,
    active: boolean,
    reason: string | null,
  ) {
    const status = active ? 'active' : 'deactivated';
    if (user.status === status) return user;
    if (active) await admit(tx, ctx);
    const at = now();
    const updated = await tx.updateUser(user.id, {
      status,
      deactivatedAt: active ? null : at,
      updatedAt: at,
    });
    await audit(tx, ctx, active ? 'reactivated' : 'deactivated', {
      userId: user.id,
      reason,
      changes: [{ field: 'status', from: user.status, to: status }],
    });
    return updated;
  }

  function diffAttributes(
    before: Readonly<Record<string, unknown>>,
    after: Record<string, unknown>,
  ): Change[] {
    const changes: Change[] = [];
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
        changes.push({ field: key, from: before[key] ?? null, to: after[key] ?? null });
      }
    }
    return changes;
  }

  async function createUser(ctx: Context, body: unknown): Promise<ScimResponse> {
    const input = readUser(body);
    const { record, user } = await write(async (tx) => {
      if (await tx.findUserByUserName(ctx.directory.id, input.userName)) {
        throw uniqueness(`A user with userName "${input.userName}" already exists.`);
      }
      const at = now();
      const wanted = chooseEmail(input);
      const holder = wanted ? await tx.findUserByEmail(ctx.directory.tenantId, wanted) : null;
      let user: UserRecord;
      if (holder && !(await tx.findResourceOfUser(holder.id))) {
        // The person signed in before the directory knew them: the directory takes over that account.
        const attributes = { ...holder.attributes, ...userAttributes(input) };
        user = await tx.updateUser(holder.id, { attributes, externalId: input.externalId, updatedAt: at });
        await audit(tx, ctx, 'linked', {
          userId: user.id,
          reason: 'scim-adopted',
          changes: diffAttributes(holder.attributes, attributes),
        });
        user = await setStatus(tx, ctx, user, input.active, 'scim');
      } else {
        // Time-ordered ids keep inserts at the end of the id indexes.
        if (input.active) await admit(tx, ctx);
        const id = uuidv7();
        const attributes = userAttributes(input);
        user = await tx.insertUser({
          id,
          tenantId: ctx.directory.tenantId,
          email: holder || !wanted ? `${id}@${PLACEHOLDER_DOMAIN}` : wanted,
          status: input.active ? 'active' : 'deactivated',
          source: 'scim',
          attributes,
          roles: [],
          externalId: input.externalId,
          createdAt: at,
          lastLoginAt: null,
        });
        if (!input.active) user = await tx.updateUser(id, { deactivatedAt: at, updatedAt: at });
        await audit(tx, ctx, 'created', {
          userId: id,
          reason: 'scim',
          changes: [
            { field: 'email', from: null, to: user.email },
            ...Object.entries(attributes).map(([field, to]) => ({ field, from: null, to })),
            ...(input.active ? [] : [{ field: 'status', from: null, to: 'deactivated' }]),
          ],
        });
      }
      const record = await tx.insertResource({
        id: user.id,
        directoryId: ctx.directory.id,
        type: 'User',
        name: input.userName,
        externalId: input.externalId,
        data: input.data,
        createdAt: at,
      });
      return { record, user };
    }, input.userName);
    const body2 = renderUser(record, user.status === 'active', [], render);
    return response(201, body2, { Location: `${baseUrl}/Users/${record.id}`, ETag: etagOf(record) });
  }

  /** Writes a new version of a user (PUT, or PATCH after applying the operations). */
  async function updateUser(
    tx: DirectoryTransaction,
    ctx: Context,
    current: ScimResourceRecord,
    found: UserRecord | null,
    input: UserInput,
  ): Promise<{ record: ScimResourceRecord; user: UserRecord }> {
    if (input.userName.toLowerCase() !== current.name.toLowerCase()) {
      const holder = await tx.findUserByUserName(ctx.directory.id, input.userName);
      if (holder && holder.id !== current.id)
        throw uniqueness(`A user with userName "${input.userName}" already exists.`);
    }
    // The tenant user as the caller read it in this transaction.
    let user = found;
    if (!user) throw notFound(`User "${current.id}" not found.`);
    const at = now();
    const email = await emailFor(tx, ctx, input, user.id, user.email);
    const attributes = { ...user.attributes, ...userAttributes(input) };
    for (const field of [
      'firstName',
      'lastName',
      'displayName',
      'employeeNumber',
      'department',
      'costCenter',
      'organization',
      'division',
    ]) {
      if (!(field in userAttributes(input))) delete attributes[field];
    }
    const changes = diffAttributes(user.attributes, attributes);
    if (email !== user.email) changes.unshift({ field: 'email', from: user.email, to: email });
    if (input.externalId !== user.externalId)
      changes.push({ field: 'externalId', from: user.externalId, to: input.externalId });
    if (changes.length) {
      user = await tx.updateUser(user.id, { email, attributes, externalId: input.externalId, updatedAt: at });
      await audit(tx, ctx, 'updated', { userId: user.id, reason: 'scim', changes });
    }
    user = await setStatus(tx, ctx, user, input.active, 'scim');
    const record = await tx.updateResource(current.id, {
      name: input.userName,
      externalId: input.externalId,
      data: input.data,
      updatedAt: at,
    });
    return { record, user };
  }

  function userDocument(record: ScimResourceRecord, user: UserRecord | null): Json {
    const doc: Json = {
      ...(structuredClone(record.data) as Json),
      userName: record.name,
      active: user?.status === 'active',
    };
    if (record.externalId !== null) doc['externalId'] = record.externalId;
    return doc;
  }

  async function changeUser(
    ctx: Context,
    id: string,
    request: ScimRequest,
    build: (record: ScimResourceRecord, user: UserRecord | null) => UserInput,
  ): Promise<{ record: ScimResourceRecord; user: UserRecord }> {
    return write(async (tx) => {
      const current = await tx.lockResource(ctx.directory.id, 'User', id);
      if (!current) throw notFound(`User "${id}" not found.`);
      checkIfMatch(request, current);
      const user = await tx.findUserById(current.id);
      return updateUser(tx, ctx, current, user, build(current, user));
    });
  }

  async function deleteUser(ctx: Context, id: string, request: ScimRequest): Promise<ScimResponse> {
    await write(async (tx) => {
      const current = await tx.lockResource(ctx.directory.id, 'User', id);
      if (!current) throw notFound(`User "${id}" not found.`);
      checkIfMatch(request, current);
      const groups = await tx.listGroupsOfMember(ctx.directory.id, id);
      await tx.deleteResource(id);
      const user = await tx.findUserById(id);
      if (user) {
        const withoutScim = user.roles.filter((g) => g.source !== 'scim');
        if (withoutScim.length !== user.roles.length) {
          await tx.updateUser(id, { roles: withoutScim, updatedAt: now() });
        }
        // The account stays (audit history, identities) but is deactivated; the directory entry is gone.
        await setStatus(tx, ctx, user, false, 'scim-delete');
        await audit(tx, ctx, 'deleted', {
          userId: id,
          reason: 'scim-delete',
          changes: [{ field: 'groups', from: groups.map((g) => g.name), to: [] }],
        });
      }
    });
    return response(204);
  }

  // ---- groups ----

  /**
   * The members with their display names, when every one is a user of this directory; otherwise a
   * 400 naming the ids that are not, and nothing is written. Plain-string ids that name no user
   * are left out instead (see `GroupInput.plainMembers`). One read per 100 members.
   */
  async function existingMembers(
    tx: DirectoryTransaction,
    ctx: Context,
    members: readonly GroupMember[],
    plain: ReadonlySet<string>,
  ): Promise<GroupMember[]> {
    // Shared locks: a user being added cannot be deleted before this membership commits.
    const found = await tx.shareResources(
      ctx.directory.id,
      'User',
      members.map((m) => m.value),
    );
    const users = new Map(found.map((record) => [record.id, record]));
    const unknown = members.filter((m) => !users.has(m.value) && !plain.has(m.value)).map((m) => m.value);
    if (unknown.length) {
      const named = unknown
        .slice(0, 5)
        .map((id) => `"${id}"`)
        .join(', ');
      const more = unknown.length > 5 ? ` and ${unknown.length - 5} more` : '';
      throw invalidValue(`No user of this directory has the id ${named}${more}: members must be users.`);
    }
    return members
      .filter((m) => users.has(m.value))
      .map((m) => ({ value: m.value, display: m.display ?? users.get(m.value)!.name }));
  }

  /** Recomputes the `scim` role grants of users from their groups and the connection's rules. */
  async function syncRoles(tx: DirectoryTransaction, ctx: Context, userIds: Iterable<string>): Promise<void> {
    if (!ctx.connection) return;
    for (const userId of new Set(userIds)) {
      const user = await tx.findUserById(userId);
      if (!user) continue;
      const groups = await tx.listGroupsOfMember(ctx.directory.id, userId);
      const keys = groups.flatMap((g) => [g.name, g.id, ...(g.externalId ? [g.externalId] : [])]);
      const granted = rolesForGroups(ctx.connection, keys) ?? [];
      const kept = user.roles.filter((g) => g.source !== 'scim');
      const roles: RoleGrant[] = [...kept, ...granted.map((role) => ({ role, source: 'scim' as const }))];
      const before = user.roles
        .filter((g) => g.source === 'scim')
        .map((g) => g.role)
        .sort();
      if (JSON.stringify(before) === JSON.stringify(granted)) continue;
      await tx.updateUser(userId, { roles, updatedAt: now() });
      await audit(tx, ctx, 'updated', {
        userId,
        reason: 'scim-groups',
        changes: [{ field: 'roles', from: before, to: granted }],
      });
    }
  }

  /**
   * The roles that membership of this group grants under the connection's rules (sorted). A user's
   * roles are the union of what each of their groups grants (`rolesForGroups` matches each rule on
   * any of the user's group keys), so a group that grants nothing changes no one's roles by its
   * members coming or going.
   */
  function rolesOfGroup(ctx: Context, group: ScimResourceRecord): string[] {
    if (!ctx.connection) return [];
    const keys = [group.name, group.id, ...(group.externalId !== null ? [group.externalId] : [])];
    return rolesForGroups(ctx.connection, keys) ?? [];
  }

  /**
   * Recomputes the roles a group's write can change: those of the members added and removed, when
   * the group grants roles; those of every member, when a new name or externalId makes it grant
   * other roles (work per member, which no store can avoid); none otherwise.
   */
  async function syncGroupRoles(
    tx: DirectoryTransaction,
    ctx: Context,
    before: ScimResourceRecord | null,
    after: ScimResourceRecord,
    change: MembershipChange,
  ): Promise<void> {
    if (!ctx.connection) return;
    const granted = rolesOfGroup(ctx, after);
    const grantedBefore = before ? rolesOfGroup(ctx, before) : granted;
    if (granted.join('\n') !== grantedBefore.join('\n')) {
      const members = await tx.listMembers(after.id);
      await syncRoles(tx, ctx, [...members.map((m) => m.value), ...change.removed]);
      return;
    }
    if (!granted.length) return;
    await syncRoles(tx, ctx, [...change.added, ...change.removed]);
  }

  /**
   * Writes what a request does to a group's members. Every member id a request names passes
   * through `knownMembers` here, whichever form the request took.
   */
  async function writeMembers(
    tx: DirectoryTransaction,
    ctx: Context,
    groupId: string,
    change: MemberChange,
  ): Promise<MembershipChange> {
    const plain = change.plain ?? NO_IDS;
    if (change.kind === 'replace')
      return tx.replaceMembers(groupId, await existingMembers(tx, ctx, change.members, plain));
    if (!change.add.length && !change.remove.length) return { added: [], removed: [] };
    return tx.changeMembers(groupId, await existingMembers(tx, ctx, change.add, plain), change.remove);
  }

  async function createGroup(ctx: Context, body: unknown): Promise<ScimResponse> {
    const input = readGroup(body);
    const { record, members } = await write(async (tx) => {
      const at = now();
      const record = await tx.insertResource({
        id: uuidv7(),
        directoryId: ctx.directory.id,
        type: 'Group',
        name: input.displayName,
        externalId: input.externalId,
        data: input.data,
        createdAt: at,
      });
      const change = await writeMembers(tx, ctx, record.id, {
        kind: 'replace',
        members: input.members,
        plain: input.plainMembers,
      });
      await audit(tx, ctx, 'created', {
        reason: 'scim-group',
        changes: [{ field: 'group', from: null, to: record.name }],
      });
      await syncGroupRoles(tx, ctx, null, record, change);
      return { record, members: await tx.listMembers(record.id) };
    });
    return response(201, renderGroup(record, members, render), {
      Location: `${baseUrl}/Groups/${record.id}`,
      ETag: etagOf(record),
    });
  }

  /** A group as a write leaves it: its own attributes, and what happens to its members. */
  interface GroupWrite extends Omit<GroupInput, 'members'> {
    members: MemberChange;
  }

  /**
   * Writes a new version of a group (PUT, PATCH). `build` sees the locked resource; it reads the
   * stored members only when the request cannot be written without them.
   */
  async function changeGroup(
    ctx: Context,
    id: string,
    request: ScimRequest,
    build: (tx: DirectoryTransaction, current: ScimResourceRecord) => GroupWrite | Promise<GroupWrite>,
  ): Promise<ScimResourceRecord> {
    return write(async (tx) => {
      const current = await tx.lockResource(ctx.directory.id, 'Group', id);
      if (!current) throw notFound(`Group "${id}" not found.`);
      checkIfMatch(request, current);
      const input = await build(tx, current);
      const change = await writeMembers(tx, ctx, id, input.members);
      const record = await tx.updateResource(id, {
        name: input.displayName,
        externalId: input.externalId,
        data: input.data,
        updatedAt: now(),
      });
      await syncGroupRoles(tx, ctx, current, record, change);
      return record;
    });
  }

  /**
   * A group PATCH as a write: member operations become additions and removals, the others apply to
   * the group without its members. Only a member operation that needs the stored members (a filter
   * on `display`, a sub-attribute) reads them, and then the PATCH applies to the whole document.
   */
  async function patchGroup(
    tx: DirectoryTransaction,
    current: ScimResourceRecord,
    operations: readonly PatchOperation[],
  ): Promise<GroupWrite> {
    const split = splitGroupPatch(operations);
    if (split) {
      const input = readGroup(applyPatch(groupDocument(current, null), split.others));
      return { ...input, members: split.members };
    }
    const input = readGroup(applyPatch(groupDocument(current, await tx.listMembers(current.id)), operations));
    return { ...input, members: { kind: 'replace', members: input.members, plain: input.plainMembers } };
  }

  async function deleteGroup(ctx: Context, id: string, request: ScimRequest): Promise<ScimResponse> {
    await write(async (tx) => {
      const current = await tx.lockResource(ctx.directory.id, 'Group', id);
      if (!current) throw notFound(`Group "${id}" not found.`);
      checkIfMatch(request, current);
      // The members are read only when the group granted them roles that its deletion takes away.
      const members = rolesOfGroup(ctx, current).length ? await tx.listMembers(id) : [];
      await tx.deleteResource(id);
      await audit(tx, ctx, 'deleted', {
        reason: 'scim-group',
        changes: [{ field: 'group', from: current.name, to: null }],
      });
      await syncRoles(
        tx,
        ctx,
        members.map((m) => m.value),
      );
    });
    return response(204);
  }

  /** The group as a PATCH applies to it; `members` null leaves them out. */
  function groupDocument(record: ScimResourceRecord, members: readonly GroupMember[] | null): Json {
    const doc: Json = {
      ...(structuredClone(record.data) as Json),
      displayName: record.name,
    };
    if (members) {
      doc['members'] = members.map((m) => ({
        value: m.value,
        ...(m.display !== null ? { display: m.display } : {}),
      }));
    }
    if (record.externalId !== null) doc['externalId'] = record.externalId;
    return doc;
  }

  // ---- shared ----

  function checkIfMatch(request: ScimRequest, record: ScimResourceRecord): void {
    const ifMatch = header(request.headers, 'if-match');
    if (ifMatch && !etagMatches(ifMatch, etagOf(record))) {
      throw preconditionFailed(`The resource has changed: its version is ${etagOf(record)}.`);
    }
  }

  /**
   * A write transaction; a userName taken concurrently surfaces as 409 uniqueness. A transaction the
   * database chose as a deadlock victim was rolled back whole, and runs again from its first read.
   */
  async function write<T>(work: (tx: DirectoryTransaction) => Promise<T>, userName?: string): Promise<T> {
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await store.directoryTransaction(work);
        } catch (error) {
          if (!(error instanceof StoreConflictError && error.constraint === 'deadlock')) throw error;
          if (attempt === DEADLOCK_ATTEMPTS)
            throw new StoreError('The write lost to concurrent writes on every attempt.', error);
        }
      }
    } catch (error) {
      if (error instanceof StoreConflictError) {
        throw uniqueness(
          userName
            ? `A user with userName "${userName}" already exists.`
            : 'The change conflicts with an existing resource.',
        );
      }
      if (error instanceof SeatLimitReachedError) {
        throw new ScimError(403, null, `SEAT_LIMIT_REACHED: ${error.message} ${error.hint}`, {
          code: 'SEAT_LIMIT_REACHED',
          cause: error,
        });
      }
      throw error;
    }
  }

  async function renderOne(ctx: Context, record: ScimResourceRecord, detailed: boolean): Promise<Json> {
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

  async function list(ctx: Context, types: ScimResourceType[], params: ListParams): Promise<ScimResponse> {
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
      const page = await store.queryResources(query);
      total += page.total;
      offset = Math.max(0, offset - page.total);
      remaining -= page.resources.length;
      const skipMembers = !wantsMembers(attributes, excluded);
      for (const record of page.resources) {
        const resource =
          record.type === 'Group' && skipMembers
            ? renderGroup(record, null, render)
            : await renderOne(ctx, record, false);
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
    ctx: Context,
    type: ScimResourceType,
    id: string,
    request: ScimRequest,
  ): Promise<ScimResponse> {
    const record = await store.findResource(ctx.directory.id, type, id);
    if (!record) throw notFound(`${type} "${id}" not found.`);
    const etag = etagOf(record);
    const ifNoneMatch = header(request.headers, 'if-none-match');
    if (ifNoneMatch && etagMatches(ifNoneMatch, etag)) return response(304, undefined, { ETag: etag });
    const params = listParams({ ...request, method: 'GET' });
    const resource = await renderOne(ctx, record, true);
    return response(
      200,
      project(resource, readAttributeList(params.attributes), readAttributeList(params.excludedAttributes)),
      {
        Location: `${baseUrl}/${type}s/${id}`,
        ETag: etag,
      },
    );
  }

  async function written(
    ctx: Context,
    record: ScimResourceRecord,
    request: ScimRequest,
    asPatch: boolean,
  ): Promise<ScimResponse> {
    const headers = { ETag: etagOf(record), Location: `${baseUrl}/${record.type}s/${record.id}` };
    const attributes = readAttributeList(queryValue(request.query, 'attributes'));
    const excluded = readAttributeList(queryValue(request.query, 'excludedAttributes'));
    // PATCH answers 204 (RFC 7644 §3.5.2) unless the client asked for attributes back: a group's
    // change then costs what the change costs, not a read of all its members.
    if (asPatch && !attributes && !excluded) return response(204, undefined, headers);
    const resource =
      record.type === 'Group' && !wantsMembers(attributes, excluded)
        ? renderGroup(record, null, render)
        : await renderOne(ctx, record, true);
    return response(200, project(resource, attributes, excluded), headers);
  }

  // ---- bulk ----

  async function bulk(ctx: Context, request: ScimRequest): Promise<ScimResponse> {
    const body = request.body;
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
    const ids = new Map<string, string>();
    const results: Json[] = [];
    let errors = 0;
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
    for (const raw of operations) {
      if (errors >= failOnErrors) break;
      const op = isObject(raw) ? raw : {};
      const method = String(op['method'] ?? '').toUpperCase();
      const bulkId = typeof op['bulkId'] === 'string' ? op['bulkId'] : undefined;
      const result: Json = { method };
      if (bulkId) result['bulkId'] = bulkId;
      let outcome: ScimResponse;
      try {
        if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method))
          throw invalidSyntax('Each operation needs a method POST, PUT, PATCH or DELETE.');
        if (method === 'POST' && !bulkId) throw invalidSyntax('A POST operation needs a bulkId.');
        const path = resolve(op['path']);
        if (typeof path !== 'string' || !/^\/(Users|Groups)(\/[^/]+)?$/i.test(path))
          throw invalidSyntax('"path" must be /Users, /Groups or one of their resources.');
        const headers: Headers = typeof op['version'] === 'string' ? { 'if-match': op['version'] } : {};
        outcome = await route(ctx, { method, path, headers, body: resolve(op['data']) });
      } catch (error) {
        outcome = toResponse(error, { method, path: String(op['path']) });
      }
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

  // ---- routing ----

  async function route(
    ctx: Context,
    request: ScimRequest,
    segments = pathSegments(request.path),
  ): Promise<ScimResponse> {
    const method = request.method.toUpperCase();
    const [first, second, third] = segments;
    const endpoint = first?.toLowerCase();
    if (third !== undefined) throw notFound(`No endpoint ${request.path}.`);
    if (endpoint === '.search' && !second && method === 'POST') {
      return list(ctx, ['User', 'Group'], listParams(request));
    }
    if (endpoint === 'bulk' && !second && method === 'POST') return bulk(ctx, request);
    const type: ScimResourceType | null =
      endpoint === 'users' ? 'User' : endpoint === 'groups' ? 'Group' : null;
    if (!type) throw notFound(`No endpoint ${request.path}.`);
    if (!second) {
      if (method === 'GET') return list(ctx, [type], listParams(request));
      if (method === 'POST')
        return type === 'User' ? createUser(ctx, request.body) : createGroup(ctx, request.body);
      throw new ScimError(405, null, `${method} is not allowed on /${first}.`, {
        code: 'SCIM_METHOD_NOT_ALLOWED',
      });
    }
    if (second === '.search') {
      if (method !== 'POST')
        throw new ScimError(405, null, 'Use POST for .search.', { code: 'SCIM_METHOD_NOT_ALLOWED' });
      return list(ctx, [type], listParams(request));
    }
    const id = second;
    // No resource has such an id, and PostgreSQL refuses a NUL even in a comparison.
    if (unstorable(id, true)) throw notFound(`${type} "${encodeURIComponent(id)}" not found.`);
    switch (method) {
      case 'GET':
        return getOne(ctx, type, id, request);
      case 'DELETE':
        return type === 'User' ? deleteUser(ctx, id, request) : deleteGroup(ctx, id, request);
      case 'PUT': {
        if (type === 'User') {
          const input = readUser(request.body);
          const { record } = await changeUser(ctx, id, request, () => input);
          return written(ctx, record, request, false);
        }
        const input = readGroup(request.body);
        const record = await changeGroup(ctx, id, request, () => ({
          ...input,
          members: { kind: 'replace', members: input.members, plain: input.plainMembers },
        }));
        return written(ctx, record, request, false);
      }
      case 'PATCH': {
        const operations = readPatchRequest(request.body);
        if (type === 'User') {
          const { record } = await changeUser(ctx, id, request, (current, user) =>
            readUser(applyPatch(userDocument(current, user), operations)),
          );
          return written(ctx, record, request, true);
        }
        const record = await changeGroup(ctx, id, request, (tx, current) =>
          patchGroup(tx, current, operations),
        );
        return written(ctx, record, request, true);
      }
      default:
        throw new ScimError(405, null, `${method} is not allowed here.`, { code: 'SCIM_METHOD_NOT_ALLOWED' });
    }
  }

  function discovery(request: ScimRequest, segments: string[]): ScimResponse | null {
    if (request.method.toUpperCase() !== 'GET') return null;
    const [first, second] = segments;
    const endpoint = first?.toLowerCase();
    if (
      segments.length === 1 &&
      (endpoint === 'serviceproviderconfig' || endpoint === 'serviceconfiguration')
    ) {
      return response(200, serviceProviderConfig(baseUrl, limits));
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

  /**
   * Answers a failure; every 5xx is reported (`onError`, else the logger) with its cause, the request
   * named by method and path, and no statement values or directory data.
   */
  function toResponse(error: unknown, request: Pick<ScimRequest, 'method' | 'path'>): ScimResponse {
    let answer: ScimError;
    if (error instanceof ScimError) answer = error;
    else if (error instanceof JitError) {
      const status = error.httpStatus >= 500 ? error.httpStatus : 400;
      answer = new ScimError(status, status === 400 ? 'invalidValue' : null, error.message, {
        code: error.code,
      });
    } else {
      answer = new ScimError(500, null, 'The SCIM service failed; the error has been logged.', {
        code: 'SCIM_INTERNAL',
      });
    }
    if (answer.status >= 500) {
      const method = request.method.toUpperCase();
      const path = request.path.split('?')[0] ?? '';
      const failure = new ScimError(answer.status, null, `SCIM ${method} ${path} failed: ${answer.code}`, {
        code: answer.code,
        cause: withoutValues(error),
      });
      report(failure, answer.status, { method, path });
    }
    return errorResponse(answer);
  }

  /**
   * The directory the request's token opens. A client (or a tenant's revoked token) over its budget
   * of failures is refused with 429 before its token is even looked at, and each burst is logged and
   * audited once, without the token.
   */
  async function authenticated(request: ScimRequest): Promise<DirectoryRecord> {
    const address = `address:${request.clientAddress ?? 'unknown'}`;
    if (throttle) {
      const wait = await throttle.blockedFor(address);
      if (wait > 0) throw tooManyAttempts(wait);
    }
    const outcome = await resolveToken(store, header(request.headers, 'authorization'));
    if ('directory' in outcome) return outcome.directory;
    if (!throttle) throw outcome.refused;
    const keys = [address, ...(outcome.tenantId !== null ? [`tenant:${outcome.tenantId}`] : [])];
    let wait = 0;
    for (const key of keys) {
      const failed = await throttle.fail(key);
      wait = Math.max(wait, failed.blockedForMs);
      if (failed.started) await reportThrottled(key, request, outcome.tenantId);
    }
    throw wait > 0 ? tooManyAttempts(wait) : outcome.refused;
  }

  async function reportThrottled(key: string, request: ScimRequest, tenantId: string | null) {
    const record = { key, clientAddress: request.clientAddress ?? null, tenantId };
    const line = `SCIM authentication throttled for ${key}: too many failed attempts`;
    if (logger.warn) logger.warn(record, line);
    else logger.error(record, line);
    // An unknown token names no tenant: the event is recorded without one.
    await store.directoryTransaction((tx) =>
      tx.appendAudit({
        id: uuidv7(),
        at: now(),
        tenantId: tenantId ?? '',
        actor: 'scim',
        action: 'denied',
        connectionId: null,
        subject: request.clientAddress ?? null,
        userId: null,
        reason: 'SCIM_AUTH_THROTTLED',
        changes: [],
      }),
    );
  }

  async function handle(request: ScimRequest): Promise<ScimResponse> {
    try {
      const segments = pathSegments(request.path);
      const known = discovery(request, segments);
      if (known) return known;
      const directory = await authenticated(request);
      // Before anything walks the body recursively (PATCH, rendering, serialising).
      checkBody(request.body);
      return await route(await contextOf(directory), request, segments);
    } catch (error) {
      return toResponse(error, request);
    }
  }

  return Object.freeze({ handle, limits });
}
