import {
  uuidv7,
  type Change,
  type DirectoryTransaction,
  type ScimResourceRecord,
  type UserRecord,
} from '@jit-sso/core';
import { lockForWrite, type Context, type Json, type ServiceContext } from './context.js';
import { notFound, uniqueness } from './errors.js';
import { chooseEmail, etagOf, readUser, renderUser, userAttributes, type UserInput } from './resources.js';
import { response } from './responses.js';
import type { ScimRequest, ScimResponse } from './types.js';

const PLACEHOLDER_DOMAIN = 'scim.invalid';

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
async function admit(service: ServiceContext, tx: DirectoryTransaction, ctx: Context): Promise<void> {
  await service.provisioner?.admitUser(tx, ctx.directory.tenantId);
}

async function setStatus(
  service: ServiceContext,
  tx: DirectoryTransaction,
  ctx: Context,
  user: UserRecord,
  active: boolean,
  reason: string | null,
) {
  const status = active ? 'active' : 'deactivated';
  if (user.status === status) return user;
  if (active) await admit(service, tx, ctx);
  const at = service.now();
  const updated = await tx.updateUser(user.id, {
    status,
    deactivatedAt: active ? null : at,
    updatedAt: at,
  });
  await service.audit(tx, ctx, active ? 'reactivated' : 'deactivated', {
    userId: user.id,
    reason,
    changes: [{ field: 'status', from: user.status, to: status }],
  });
  return updated;
}

function diffAttributes(before: Readonly<Record<string, unknown>>, after: Record<string, unknown>): Change[] {
  const changes: Change[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changes.push({ field: key, from: before[key] ?? null, to: after[key] ?? null });
    }
  }
  return changes;
}

/** The person signed in before the directory knew them: the directory takes over that account. */
async function adoptUser(
  service: ServiceContext,
  tx: DirectoryTransaction,
  ctx: Context,
  holder: UserRecord,
  input: UserInput,
  at: Date,
): Promise<UserRecord> {
  const attributes = { ...holder.attributes, ...userAttributes(input) };
  const user = await tx.updateUser(holder.id, { attributes, externalId: input.externalId, updatedAt: at });
  await service.audit(tx, ctx, 'linked', {
    userId: user.id,
    reason: 'scim-adopted',
    changes: diffAttributes(holder.attributes, attributes),
  });
  return setStatus(service, tx, ctx, user, input.active, 'scim');
}

async function insertUser(
  service: ServiceContext,
  tx: DirectoryTransaction,
  ctx: Context,
  email: string | null,
  input: UserInput,
  at: Date,
): Promise<UserRecord> {
  if (input.active) await admit(service, tx, ctx);
  // Time-ordered ids keep inserts at the end of the id indexes.
  const id = uuidv7();
  const attributes = userAttributes(input);
  let user = await tx.insertUser({
    id,
    tenantId: ctx.directory.tenantId,
    email: email ?? `${id}@${PLACEHOLDER_DOMAIN}`,
    status: input.active ? 'active' : 'deactivated',
    source: 'scim',
    attributes,
    roles: [],
    externalId: input.externalId,
    createdAt: at,
    lastLoginAt: null,
  });
  if (!input.active) user = await tx.updateUser(id, { deactivatedAt: at, updatedAt: at });
  await service.audit(tx, ctx, 'created', {
    userId: id,
    reason: 'scim',
    changes: [
      { field: 'email', from: null, to: user.email },
      ...Object.entries(attributes).map(([field, to]) => ({ field, from: null, to })),
      ...(input.active ? [] : [{ field: 'status', from: null, to: 'deactivated' }]),
    ],
  });
  return user;
}

export async function createUser(
  service: ServiceContext,
  ctx: Context,
  body: unknown,
): Promise<ScimResponse> {
  const input = readUser(body);
  const { record, user } = await service.write(async (tx) => {
    if (await tx.findUserByUserName(ctx.directory.id, input.userName)) {
      throw uniqueness(`A user with userName "${input.userName}" already exists.`);
    }
    const at = service.now();
    const wanted = chooseEmail(input);
    const holder = wanted ? await tx.findUserByEmail(ctx.directory.tenantId, wanted) : null;
    const user =
      holder && !(await tx.findResourceOfUser(holder.id))
        ? await adoptUser(service, tx, ctx, holder, input, at)
        : await insertUser(service, tx, ctx, holder || !wanted ? null : wanted, input, at);
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
  const rendered = renderUser(record, user.status === 'active', [], service.render);
  return response(201, rendered, {
    Location: `${service.baseUrl}/Users/${record.id}`,
    ETag: etagOf(record),
  });
}

/** Writes a new version of a user (PUT, or PATCH after applying the operations). */
async function updateUser(
  service: ServiceContext,
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
  const at = service.now();
  const email = await emailFor(tx, ctx, input, user.id, user.email);
  const given = userAttributes(input);
  const attributes = { ...user.attributes, ...given };
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
    if (!(field in given)) delete attributes[field];
  }
  const attributeChanges = diffAttributes(user.attributes, attributes);
  const changes = [...attributeChanges];
  if (email !== user.email) changes.unshift({ field: 'email', from: user.email, to: email });
  if (input.externalId !== user.externalId)
    changes.push({ field: 'externalId', from: user.externalId, to: input.externalId });
  if (changes.length) {
    // Only what changed: an unchanged email then leaves the tenant's unique email index untouched.
    user = await tx.updateUser(user.id, {
      ...(email !== user.email ? { email } : {}),
      ...(attributeChanges.length ? { attributes } : {}),
      ...(input.externalId !== user.externalId ? { externalId: input.externalId } : {}),
      updatedAt: at,
    });
    await service.audit(tx, ctx, 'updated', { userId: user.id, reason: 'scim', changes });
  }
  user = await setStatus(service, tx, ctx, user, input.active, 'scim');
  const record = await tx.updateResource(current.id, {
    name: input.userName,
    externalId: input.externalId,
    data: input.data,
    updatedAt: at,
  });
  return { record, user };
}

/** The user as a PATCH applies to it (a shallow copy: `applyPatch` works on a deep copy of its own). */
export function userDocument(record: ScimResourceRecord, user: UserRecord | null): Json {
  const doc: Json = {
    ...(record.data as Json),
    userName: record.name,
    active: user?.status === 'active',
  };
  if (record.externalId !== null) doc['externalId'] = record.externalId;
  return doc;
}

export async function changeUser(
  service: ServiceContext,
  ctx: Context,
  id: string,
  request: ScimRequest,
  build: (record: ScimResourceRecord, user: UserRecord | null) => UserInput,
): Promise<{ record: ScimResourceRecord; user: UserRecord }> {
  return service.write(async (tx) => {
    const current = await lockForWrite(tx, ctx, 'User', id, request);
    const user = await tx.findUserById(current.id);
    return updateUser(service, tx, ctx, current, user, build(current, user));
  });
}

export async function deleteUser(
  service: ServiceContext,
  ctx: Context,
  id: string,
  request: ScimRequest,
): Promise<ScimResponse> {
  await service.write(async (tx) => {
    await lockForWrite(tx, ctx, 'User', id, request);
    const groups = await tx.listGroupsOfMember(ctx.directory.id, id);
    await tx.deleteResource(id);
    const user = await tx.findUserById(id);
    if (user) {
      const withoutScim = user.roles.filter((g) => g.source !== 'scim');
      if (withoutScim.length !== user.roles.length) {
        await tx.updateUser(id, { roles: withoutScim, updatedAt: service.now() });
      }
      // The account stays (audit history, identities) but is deactivated; the directory entry is gone.
      await setStatus(service, tx, ctx, user, false, 'scim-delete');
      await service.audit(tx, ctx, 'deleted', {
        userId: id,
        reason: 'scim-delete',
        changes: [{ field: 'groups', from: groups.map((g) => g.name), to: [] }],
      });
    }
  });
  return response(204);
}
