import { lifecycleEventOf, type GroupMembersEventPayload, type LifecycleEvent } from '@jit-sso/core';
import { describe, expect, it } from 'vitest';
import { GROUP, harness, PATCH, user, type Harness } from './helpers.js';

/** The lifecycle events of the tenant's audit trail, in order. */
async function events(h: Harness): Promise<LifecycleEvent[]> {
  const audit = await h.store.listAuditEvents({ tenantId: 'acme', limit: 500 });
  return audit.map(lifecycleEventOf).filter((e): e is LifecycleEvent => e !== null);
}

const membership = (list: LifecycleEvent[]) =>
  list
    .filter((e) => e.type === 'group.members_changed')
    .map((e) => {
      const p = e.payload as GroupMembersEventPayload;
      return { groupId: p.groupId, group: p.group, added: p.added, removed: p.removed };
    });

async function users(h: Harness, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await h.call('POST', '/Users', user(`member${i}`))).body.id);
  return ids;
}

describe('group membership events', () => {
  it('records group.members_changed for a create with members, a PATCH, and a PUT, with the ids', async () => {
    const h = await harness();
    const [a, b, c] = await users(h, 3);
    const created = await h.call('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [{ value: a }],
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const patched = await h.call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: b }, { value: c }] },
        { op: 'remove', path: `members[value eq "${a}"]` },
      ],
    });
    expect(patched.status).toBeLessThan(300);
    const put = await h.call('PUT', `/Groups/${id}`, {
      schemas: [GROUP],
      displayName: 'Platform',
      members: [{ value: a }, { value: b }],
    });
    expect(put.status).toBe(200);

    const list = await events(h);
    expect(list.filter((e) => e.type.startsWith('group.')).map((e) => e.type)).toEqual([
      'group.created',
      'group.members_changed',
      'group.members_changed',
      'group.members_changed',
    ]);
    expect(list.find((e) => e.type === 'group.created')!.payload).toMatchObject({ groupId: id });
    expect(membership(list)).toEqual([
      { groupId: id, group: 'Engineering', added: [a], removed: [] },
      { groupId: id, group: 'Engineering', added: [b, c].sort(), removed: [a] },
      { groupId: id, group: 'Platform', added: [a], removed: [c] },
    ]);
  });

  it('records none for a write that changes no membership, nor for a refused one', async () => {
    const h = await harness();
    const [a] = await users(h, 1);
    const id = (await h.call('POST', '/Groups', { schemas: [GROUP], displayName: 'Ops' })).body.id as string;
    // A group created without members has no membership change.
    expect(membership(await events(h))).toEqual([]);
    // Renaming, adding a member it already has, removing one it does not have.
    await h.call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Operations' }],
    });
    await h.call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${a}"]` }],
    });
    // An unknown member: a 400, nothing written.
    const refused = await h.call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: a }, { value: 'no-such-user' }] }],
    });
    expect(refused.status).toBe(400);
    expect(membership(await events(h))).toEqual([]);
    await h.call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: a }] }],
    });
    await h.call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: a }] }],
    });
    expect(membership(await events(h))).toEqual([
      { groupId: id, group: 'Operations', added: [a], removed: [] },
    ]);
  });
});
