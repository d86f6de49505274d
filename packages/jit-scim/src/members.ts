import { type GroupMember, type ScimFilter } from '@jit-sso/core';
import { parsePatchPath } from './filter.js';
import type { PatchOperation } from './patch.js';
import { readMembers } from './resources.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * What a write does to a group's members: all of them replaced (a PUT, `replace members`), or some
 * added and some removed (what Entra ID and Okta send in PATCHes, one or a few members at a time).
 * Removed values are compared with the stored ones ignoring case, as the schema compares
 * `members.value`.
 */
export type MemberChange = (
  | { readonly kind: 'replace'; readonly members: readonly GroupMember[] }
  | { readonly kind: 'change'; readonly add: readonly GroupMember[]; readonly remove: readonly string[] }
) & {
  /** Ids sent as plain strings, not `{ "value": id }`: left out when they name no user (`GroupInput.plainMembers`). */
  readonly plain?: ReadonlySet<string>;
};

export const NO_MEMBER_CHANGE: MemberChange = { kind: 'change', add: [], remove: [] };

/**
 * A group PATCH split into what it does to the members and the operations on everything else, or
 * `null` when a member operation needs the stored members to be read (a filter other than
 * `value eq`, a sub-attribute such as `members[value eq "…"].display`). The forms directories send
 * are all understood here: `add members [...]`, `replace members [...]`, `remove members` with a
 * value list (Entra ID) or none, `remove members[value eq "…"]` (Okta, Entra's compliant mode), and
 * `members` inside a path-less operation's value.
 */
export function splitGroupPatch(
  operations: readonly PatchOperation[],
): { members: MemberChange; others: PatchOperation[] } | null {
  let members: MemberChange = NO_MEMBER_CHANGE;
  const others: PatchOperation[] = [];
  for (const operation of operations) {
    if (operation.path === null) {
      if (!isObject(operation.value)) {
        others.push(operation);
        continue;
      }
      const rest: Json = {};
      for (const [key, value] of Object.entries(operation.value)) {
        if (key.toLowerCase() !== 'members') {
          rest[key] = value;
          continue;
        }
        const next = memberOperation(members, operation.op, null, value);
        if (!next) return null;
        members = next;
      }
      if (Object.keys(rest).length) others.push({ ...operation, value: rest });
      continue;
    }
    const path = parsePatchPath(operation.path);
    if (path.attribute.schema !== null || path.attribute.name !== 'members') {
      others.push(operation);
      continue;
    }
    if (path.attribute.sub !== null || path.subAfterFilter !== null) return null;
    const next = memberOperation(members, operation.op, path.filter, operation.value);
    if (!next) return null;
    members = next;
  }
  return { members, others };
}

/** `change` followed by one operation on `members`, or null when it needs the stored members. */
function memberOperation(
  change: MemberChange,
  op: PatchOperation['op'],
  filter: ScimFilter | null,
  value: unknown,
): MemberChange | null {
  if (filter) {
    if (op !== 'remove') return null;
    const ids = filteredValues(filter);
    return ids ? removing(change, ids) : null;
  }
  if (op === 'remove') {
    if (value === undefined || value === null) return { kind: 'replace', members: [] };
    const ids: string[] = [];
    for (const element of Array.isArray(value) ? value : [value]) {
      const id = isObject(element) ? pickValue(element) : element;
      if (typeof id !== 'string') return null;
      ids.push(id);
    }
    return removing(change, ids);
  }
  const { members: given, plain: givenPlain } = readMembers(value);
  if (op === 'replace') return { kind: 'replace', members: given, plain: givenPlain };
  const plain = new Set([...(change.plain ?? []), ...givenPlain]);
  if (change.kind === 'replace') {
    const present = new Set(change.members.map((m) => m.value));
    return {
      kind: 'replace',
      members: [...change.members, ...given.filter((m) => !present.has(m.value))],
      plain,
    };
  }
  return { kind: 'change', add: [...change.add, ...given], remove: change.remove, plain };
}

function removing(change: MemberChange, ids: readonly string[]): MemberChange {
  const gone = new Set(ids.map((id) => id.toLowerCase()));
  const plain = change.plain ?? new Set<string>();
  if (change.kind === 'replace') {
    return {
      kind: 'replace',
      members: change.members.filter((m) => !gone.has(m.value.toLowerCase())),
      plain,
    };
  }
  // A member added earlier in the same request and removed now is not added at all.
  return {
    kind: 'change',
    add: change.add.filter((m) => !gone.has(m.value.toLowerCase())),
    remove: [...change.remove, ...ids],
    plain,
  };
}

/** The values of `value eq "…"` (or several joined with `or`), or null for any other filter. */
function filteredValues(filter: ScimFilter): string[] | null {
  if (filter.op === 'or') {
    const values: string[] = [];
    for (const inner of filter.filters) {
      const found = filteredValues(inner);
      if (!found) return null;
      values.push(...found);
    }
    return values;
  }
  if (
    filter.op === 'eq' &&
    filter.attribute.schema === null &&
    filter.attribute.name === 'value' &&
    filter.attribute.sub === null &&
    typeof filter.value === 'string'
  ) {
    return [filter.value];
  }
  return null;
}

function pickValue(element: Json): unknown {
  for (const key of Object.keys(element)) if (key.toLowerCase() === 'value') return element[key];
  return undefined;
}
