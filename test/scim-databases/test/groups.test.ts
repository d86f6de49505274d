import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvisioner, uuidv7 } from '@jit-sso/core';
import {
  DATABASES,
  deployScim,
  statementCounter,
  type ScimDeployment,
  type StatementCount,
} from '../src/databases.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(DATABASES)('SCIM groups on %s', (database) => {
  let scim: ScimDeployment;
  let counter: ReturnType<typeof statementCounter>;
  beforeAll(async () => {
    scim = await deployScim(database, `jit_scim_groups_${database.toLowerCase()}`, {
      copies: 1,
      connectionId: 'acme-oidc',
      service: (store) => ({
        provisioner: createProvisioner({
          store,
          tenants: [{ id: 'acme' }],
          connections: [
            {
              id: 'acme-oidc',
              tenantId: 'acme',
              protocol: 'oidc',
              issuer: 'https://login.acme.test',
              jit: {
                verifiedDomains: ['acme.test'],
                roleRules: [
                  { group: 'Admins', roles: ['admin'] },
                  { group: 'ext-auditors', roles: ['auditor'] },
                ],
              },
            },
          ],
        }),
      }),
    });
    counter = statementCounter(scim.copies[0]!);
  });
  afterAll(() => scim?.close());

  async function createUser(userName: string): Promise<string> {
    const created = await scim.request({
      method: 'POST',
      path: '/Users',
      body: { schemas: [USER], userName },
    });
    expect(created.status).toBe(201);
    return (created.body as { id: string }).id;
  }

  async function createGroup(displayName: string, members: string[] = []): Promise<string> {
    const created = await scim.request({
      method: 'POST',
      path: '/Groups',
      body: { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) },
    });
    expect(created.status).toBe(201);
    return (created.body as { id: string }).id;
  }

  async function patch(groupId: string, operations: unknown[]): Promise<void> {
    const res = await scim.request({
      method: 'PATCH',
      path: `/Groups/${groupId}`,
      body: { schemas: [PATCH_OP], Operations: operations },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
  }

  async function membersOf(groupId: string): Promise<string[]> {
    const res = await scim.request({ method: 'GET', path: `/Groups/${groupId}` });
    expect(res.status).toBe(200);
    return ((res.body as { members?: { value: string }[] }).members ?? []).map((m) => m.value).sort();
  }

  async function usersIn(groupId: string): Promise<{ total: number; ids: string[] }> {
    const res = await scim.request({
      method: 'GET',
      path: '/Users',
      query: { filter: `groups.value eq "${groupId}"` },
    });
    expect(res.status).toBe(200);
    const body = res.body as { totalResults: number; Resources: { id: string }[] };
    return { total: body.totalResults, ids: body.Resources.map((r) => r.id) };
  }

  async function scimRoles(userId: string): Promise<string[]> {
    const user = await scim.copies[0]!.store.findUserById(userId);
    return user!.roles
      .filter((g) => g.source === 'scim')
      .map((g) => g.role)
      .sort();
  }

  it('adds, removes and replaces members in the forms Entra ID and Okta send', async () => {
    const u = await Promise.all([0, 1, 2, 3, 4].map((i) => createUser(`member${i}@acme.test`)));
    const sorted = (ids: string[]) => [...ids].sort();
    const g = await createGroup('Team', [u[0]!]);
    // Entra ID: Add with a value list, Remove by value list.
    await patch(g, [{ op: 'Add', path: 'members', value: [{ value: u[1] }, { value: u[2] }] }]);
    expect(await membersOf(g)).toEqual(sorted([u[0]!, u[1]!, u[2]!]));
    await patch(g, [{ op: 'Remove', path: 'members', value: [{ value: u[0] }] }]);
    expect(await membersOf(g)).toEqual(sorted([u[1]!, u[2]!]));
    // Okta: remove by filter; member ids compare ignoring case.
    await patch(g, [{ op: 'remove', path: `members[value eq "${u[1]!.toUpperCase()}"]` }]);
    expect(await membersOf(g)).toEqual([u[2]]);
    // Adding a present member changes nothing; a member added and removed in one request is not added.
    await patch(g, [
      { op: 'add', path: 'members', value: [{ value: u[2] }, { value: u[3] }] },
      { op: 'remove', path: `members[value eq "${u[3]}"]` },
      { op: 'replace', path: 'displayName', value: 'Team A' },
    ]);
    expect(await membersOf(g)).toEqual([u[2]]);
    // Okta's replace, a path-less add, and remove without a value.
    await patch(g, [{ op: 'replace', path: 'members', value: [{ value: u[3] }, { value: u[4] }] }]);
    expect(await membersOf(g)).toEqual(sorted([u[3]!, u[4]!]));
    await patch(g, [{ op: 'add', value: { members: [{ value: u[0] }] } }]);
    expect(await membersOf(g)).toEqual(sorted([u[0]!, u[3]!, u[4]!]));
    expect(await usersIn(g)).toEqual({ total: 3, ids: sorted([u[0]!, u[3]!, u[4]!]) });
    await patch(g, [{ op: 'remove', path: `members[value eq "${u[0]}" or value eq "${u[3]}"]` }]);
    expect(await membersOf(g)).toEqual([u[4]]);
    // A filter on another sub-attribute reads the members to apply; the result is the same kind.
    await patch(g, [{ op: 'add', path: 'members', value: [{ value: u[0] }] }]);
    await patch(g, [{ op: 'remove', path: `members[display eq "MEMBER0@acme.test"]` }]);
    expect(await membersOf(g)).toEqual([u[4]]);
    // PUT makes the members exactly those sent.
    const put = await scim.request({
      method: 'PUT',
      path: `/Groups/${g}`,
      body: { schemas: [GROUP], displayName: 'Team A', members: [{ value: u[1] }, { value: u[4] }] },
    });
    expect(put.status).toBe(200);
    expect(await membersOf(g)).toEqual(sorted([u[1]!, u[4]!]));
    await patch(g, [{ op: 'remove', path: 'members' }]);
    expect(await membersOf(g)).toEqual([]);
    expect(await usersIn(g)).toEqual({ total: 0, ids: [] });
    // A deleted user leaves its groups, and their totals.
    await patch(g, [{ op: 'add', path: 'members', value: [{ value: u[1] }, { value: u[2] }] }]);
    expect((await scim.request({ method: 'DELETE', path: `/Users/${u[1]}` })).status).toBe(204);
    expect(await usersIn(g)).toEqual({ total: 1, ids: [u[2]] });
  });

  it('grants and takes back the roles of a mapped group as members come and go and it is renamed', async () => {
    const [a, b] = await Promise.all([createUser('ann@acme.test'), createUser('bob@acme.test')]);
    const g = await createGroup('Admins', [a]);
    expect(await scimRoles(a)).toEqual(['admin']);
    await patch(g, [{ op: 'Add', path: 'members', value: [{ value: b }] }]);
    expect(await scimRoles(b)).toEqual(['admin']);
    await patch(g, [{ op: 'Remove', path: 'members', value: [{ value: a }] }]);
    expect(await scimRoles(a)).toEqual([]);
    await patch(g, [{ op: 'Replace', path: 'displayName', value: 'Staff' }]);
    expect(await scimRoles(b)).toEqual([]);
    await patch(g, [{ op: 'replace', path: 'externalId', value: 'ext-auditors' }]);
    expect(await scimRoles(b)).toEqual(['auditor']);
    await patch(g, [
      { op: 'replace', path: 'displayName', value: 'Admins' },
      { op: 'add', path: 'members', value: [{ value: a }] },
    ]);
    expect([await scimRoles(a), await scimRoles(b)]).toEqual([
      ['admin', 'auditor'],
      ['admin', 'auditor'],
    ]);
    const put = await scim.request({
      method: 'PUT',
      path: `/Groups/${g}`,
      body: { schemas: [GROUP], displayName: 'Admins', externalId: 'ext-auditors', members: [{ value: b }] },
    });
    expect(put.status).toBe(200);
    expect([await scimRoles(a), await scimRoles(b)]).toEqual([[], ['admin', 'auditor']]);
    expect((await scim.request({ method: 'DELETE', path: `/Groups/${g}` })).status).toBe(204);
    expect(await scimRoles(b)).toEqual([]);
  });

  it('keeps the member count exact while users are deleted and removed from the group at once', async () => {
    const users = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createUser(`leaving${i}@acme.test`)),
    );
    const g = await createGroup('Leaving', users);
    const other = await createGroup('Also', users.slice(0, 6));
    // Each user is deleted while a PATCH removes it from the group, or adds a newcomer, at the same time.
    const newcomers = await Promise.all([0, 1, 2].map((i) => createUser(`newcomer${i}@acme.test`)));
    const responses = await Promise.all([
      ...users.slice(0, 8).map((id) => scim.request({ method: 'DELETE', path: `/Users/${id}` })),
      ...users.slice(0, 8).map((id) =>
        scim.request({
          method: 'PATCH',
          path: `/Groups/${g}`,
          body: {
            schemas: [PATCH_OP],
            Operations: [{ op: 'Remove', path: 'members', value: [{ value: id }] }],
          },
        }),
      ),
      ...newcomers.map((id) =>
        scim.request({
          method: 'PATCH',
          path: `/Groups/${g}`,
          body: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] },
        }),
      ),
    ]);
    expect(responses.map((r) => r.status).every((s) => s === 204)).toBe(true);
    const expected = [...users.slice(8), ...newcomers].sort();
    expect(await membersOf(g)).toEqual(expected);
    expect(await usersIn(g)).toEqual({ total: expected.length, ids: expected });
    expect(await usersIn(other)).toEqual({ total: 0, ids: [] });
  });

  it('changes a group of 2,000 members with the statements and rows it takes in a group of 10', async () => {
    const store = scim.copies[0]!.store;
    const users: string[] = [];
    await store.directoryTransaction(async (tx) => {
      for (let i = 0; i < 2_020; i++) {
        const id = uuidv7();
        users.push(id);
        await tx.insertUser({
          id,
          tenantId: 'acme',
          email: `${id}@scim.invalid`,
          status: 'active',
          source: 'scim',
          attributes: {},
          roles: [],
          externalId: null,
          createdAt: new Date(),
          lastLoginAt: null,
        });
        await tx.insertResource({
          id,
          directoryId: scim.directoryId,
          type: 'User',
          name: `bulk${i}@acme.test`,
          externalId: null,
          data: {},
          createdAt: new Date(),
        });
      }
    });
    const small = await createGroup('Small');
    const large = await createGroup('Large');
    await store.directoryTransaction(async (tx) => {
      await tx.replaceMembers(
        small,
        users.slice(0, 10).map((value) => ({ value, display: null })),
      );
      await tx.replaceMembers(
        large,
        users.slice(0, 2_000).map((value) => ({ value, display: null })),
      );
    });
    const spare = users.slice(2_000);
    expect((await usersIn(large)).total).toBe(2_000);

    const costs = async (groupId: string, round: number): Promise<Record<string, StatementCount>> => {
      const member = spare[round]!;
      return {
        add: await counter.count(() =>
          patch(groupId, [{ op: 'Add', path: 'members', value: [{ value: member }] }]),
        ),
        'remove by value': await counter.count(() =>
          patch(groupId, [{ op: 'Remove', path: 'members', value: [{ value: member }] }]),
        ),
        're-add': await counter.count(() =>
          patch(groupId, [{ op: 'add', path: 'members', value: [{ value: member }] }]),
        ),
        'remove by filter': await counter.count(() =>
          patch(groupId, [{ op: 'remove', path: `members[value eq "${member}"]` }]),
        ),
        rename: await counter.count(() =>
          patch(groupId, [{ op: 'Replace', path: 'displayName', value: `Renamed ${round}` }]),
        ),
        'groups.value eq': await counter.count(() =>
          scim.request({
            method: 'GET',
            path: '/Users',
            query: { filter: `groups.value eq "${groupId}"`, count: '5' },
          }),
        ),
      };
    };
    // A first round of each makes both groups' statements alike (the version, names already long).
    await costs(small, 0);
    await costs(large, 1);
    const inSmall = await costs(small, 2);
    const inLarge = await costs(large, 3);
    expect(inLarge).toEqual(inSmall);
    for (const cost of Object.values(inLarge)) expect(cost.rows).toBeLessThan(20);
    expect(await membersOf(large)).toHaveLength(2_000);
    expect(await membersOf(small)).toHaveLength(10);
  });
});
