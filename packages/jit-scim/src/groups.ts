import {
  membersChange,
  rolesForGroups,
  uuidv7,
  type DirectoryTransaction,
  type GroupMember,
  type MembershipChange,
  type RoleGrant,
  type ScimResourceRecord,
} from '@jit-sso/core';
import { lockForWrite, type Context, type Json, type ServiceContext } from './context.js';
import { invalidValue } from './errors.js';
import { splitGroupPatch, type MemberChange } from './members.js';
import { applyPatch, type PatchOperation } from './patch.js';
import { etagOf, readGroup, renderGroup, type GroupInput } from './resources.js';
import { response } from './responses.js';
import type { ScimRequest, ScimResponse } from './types.js';

const NO_IDS: ReadonlySet<string> = new Set();

/** A group as a write leaves it: its own attributes, and what happens to its members. */
export interface GroupWrite extends Omit<GroupInput, 'members'> {
  members: MemberChange;
}

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
async function syncRoles(
  service: ServiceContext,
  tx: DirectoryTransaction,
  ctx: Context,
  userIds: Iterable<string>,
): Promise<void> {
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
    await tx.updateUser(userId, { roles, updatedAt: service.now() });
    await service.audit(tx, ctx, 'updated', {
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
  service: ServiceContext,
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
    await syncRoles(service, tx, ctx, [...members.map((m) => m.value), ...change.removed]);
    return;
  }
  if (!granted.length) return;
  await syncRoles(service, tx, ctx, [...change.added, ...change.removed]);
}

/**
 * Writes what a request does to a group's members. Every member id a request names passes
 * through `existingMembers` here, whichever form the request took.
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

/**
 * Audits what a write did to a group's members (a `group.members_changed` event), in its
 * transaction; a write that added and removed no one is not audited.
 */
async function auditMembers(
  service: ServiceContext,
  tx: DirectoryTransaction,
  ctx: Context,
  groupId: string,
  before: string,
  after: string,
  change: MembershipChange,
): Promise<void> {
  const members = membersChange(change.added, change.removed);
  if (!members.length) return;
  await service.audit(tx, ctx, 'updated', {
    subject: groupId,
    reason: 'scim-group',
    changes: [{ field: 'group', from: before, to: after }, ...members],
  });
}

export async function createGroup(
  service: ServiceContext,
  ctx: Context,
  body: unknown,
): Promise<ScimResponse> {
  const input = readGroup(body);
  const { record, members } = await service.write(async (tx) => {
    const at = service.now();
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
    await service.audit(tx, ctx, 'created', {
      subject: record.id,
      reason: 'scim-group',
      changes: [{ field: 'group', from: null, to: record.name }],
    });
    await auditMembers(service, tx, ctx, record.id, record.name, record.name, change);
    await syncGroupRoles(service, tx, ctx, null, record, change);
    return { record, members: await tx.listMembers(record.id) };
  });
  return response(201, renderGroup(record, members, service.render), {
    Location: `${service.baseUrl}/Groups/${record.id}`,
    ETag: etagOf(record),
  });
}

/**
 * Writes a new version of a group (PUT, PATCH). `build` sees the locked resource; it reads the
 * stored members only when the request cannot be written without them.
 */
export async function changeGroup(
  service: ServiceContext,
  ctx: Context,
  id: string,
  request: ScimRequest,
  build: (tx: DirectoryTransaction, current: ScimResourceRecord) => GroupWrite | Promise<GroupWrite>,
): Promise<ScimResourceRecord> {
  return service.write(async (tx) => {
    const current = await lockForWrite(tx, ctx, 'Group', id, request);
    const input = await build(tx, current);
    const change = await writeMembers(tx, ctx, id, input.members);
    const record = await tx.updateResource(id, {
      name: input.displayName,
      externalId: input.externalId,
      data: input.data,
      updatedAt: service.now(),
    });
    await auditMembers(service, tx, ctx, id, current.name, record.name, change);
    await syncGroupRoles(service, tx, ctx, current, record, change);
    return record;
  });
}

/**
 * A group PATCH as a write: member operations become additions and removals, the others apply to
 * the group without its members. Only a member operation that needs the stored members (a filter
 * on `display`, a sub-attribute) reads them, and then the PATCH applies to the whole document.
 */
export async function patchGroup(
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

export async function deleteGroup(
  service: ServiceContext,
  ctx: Context,
  id: string,
  request: ScimRequest,
): Promise<ScimResponse> {
  await service.write(async (tx) => {
    const current = await lockForWrite(tx, ctx, 'Group', id, request);
    // The members are read only when the group granted them roles that its deletion takes away.
    const members = rolesOfGroup(ctx, current).length ? await tx.listMembers(id) : [];
    await tx.deleteResource(id);
    await service.audit(tx, ctx, 'deleted', {
      subject: id,
      reason: 'scim-group',
      changes: [{ field: 'group', from: current.name, to: null }],
    });
    await syncRoles(
      service,
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
