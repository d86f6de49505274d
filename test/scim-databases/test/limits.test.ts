import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectory, issueDirectoryToken, type ScimRequest } from '@jit-sso/scim';
import { DATABASES, deployScim, type ScimDeployment } from '../src/databases.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const CUSTOM = 'urn:example:params:scim:schemas:extension:custom:2.0:User';

/** The ids a case may refer to: a user and a group of the directory, and a user of another directory. */
interface Known {
  userId: string;
  groupId: string;
  foreignUserId: string;
}

interface Case {
  name: string;
  request: (known: Known) => ScimRequest;
  status: number;
  scimType?: string;
  /** Words the `detail` must contain (the attribute or id it is about). */
  detail?: (known: Known) => string;
}

let sequence = 0;
const userName = () => `limits-${++sequence}@acme.test`;
const newUser = (extra: Record<string, unknown> = {}) => ({
  schemas: [USER],
  userName: userName(),
  ...extra,
});
const patch = (...operations: Record<string, unknown>[]) => ({ schemas: [PATCH_OP], Operations: operations });

/** `{ "x": { "x": … } }`, `levels` objects deep, built without recursion. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 'end' };
  for (let i = 1; i < levels; i++) value = { x: value };
  return value;
}

/** A custom extension holding about `kilobytes` KB of text, in strings of 4,000 characters. */
function bulky(kilobytes: number): Record<string, unknown> {
  const count = Math.ceil((kilobytes * 1000) / 4000);
  return { [CUSTOM]: { notes: Array.from({ length: count }, (_, i) => `${i}`.padEnd(4000, 'n')) } };
}

// Each row answers the same status and scimType on every database, and never a 5xx.
const CASES: Case[] = [
  {
    name: 'a NUL in userName',
    request: () => ({ method: 'POST', path: '/Users', body: newUser({ userName: 'nul\u0000@acme.test' }) }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'userName',
  },
  {
    name: 'a NUL in displayName',
    request: () => ({ method: 'POST', path: '/Users', body: newUser({ displayName: 'Ada\u0000' }) }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'displayName',
  },
  {
    name: 'a control character in an address',
    request: () => ({
      method: 'POST',
      path: '/Users',
      body: newUser({ addresses: [{ type: 'work', streetAddress: '1 Main St\u0007' }] }),
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'addresses',
  },
  {
    name: 'a NUL in a filter value',
    request: () => ({ method: 'GET', path: '/Users', query: { filter: 'userName eq "a\u0000b"' } }),
    status: 400,
    scimType: 'invalidValue',
  },
  {
    name: 'a NUL in a searched externalId',
    request: () => ({
      method: 'POST',
      path: '/.search',
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: 'externalId eq "\u0000"',
      },
    }),
    status: 400,
    scimType: 'invalidValue',
  },
  {
    name: 'a NUL in a resource id',
    request: () => ({ method: 'GET', path: '/Users/a%00b' }),
    status: 404,
  },
  {
    name: 'a userName of 257 characters',
    request: () => ({ method: 'POST', path: '/Users', body: newUser({ userName: 'u'.repeat(257) }) }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'userName',
  },
  {
    name: 'an externalId of 300 characters',
    request: () => ({ method: 'POST', path: '/Users', body: newUser({ externalId: 'e'.repeat(300) }) }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'externalId',
  },
  {
    name: 'a user displayName of 300 characters',
    request: () => ({ method: 'POST', path: '/Users', body: newUser({ displayName: 'd'.repeat(300) }) }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'displayName',
  },
  {
    name: 'a givenName of 300 characters',
    request: () => ({
      method: 'POST',
      path: '/Users',
      body: newUser({ name: { givenName: 'g'.repeat(300) } }),
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'name.givenName',
  },
  {
    name: 'a group displayName of 300 characters',
    request: () => ({
      method: 'POST',
      path: '/Groups',
      body: { schemas: [GROUP], displayName: 'g'.repeat(300) },
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'displayName',
  },
  {
    name: 'a member display of 300 characters',
    request: (k) => ({
      method: 'POST',
      path: '/Groups',
      body: {
        schemas: [GROUP],
        displayName: 'Display',
        members: [{ value: k.userId, display: 'm'.repeat(300) }],
      },
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'members',
  },
  {
    name: 'a user of 70 KB (over MariaDB’s TEXT, under the limit)',
    request: () => ({ method: 'POST', path: '/Users', body: newUser(bulky(70)) }),
    status: 201,
  },
  {
    name: 'a user of 300 KB (over the limit)',
    request: () => ({ method: 'POST', path: '/Users', body: newUser(bulky(300)) }),
    status: 400,
    scimType: 'invalidValue',
  },
  {
    name: 'a PATCH that grows a user over the limit',
    request: (k) => ({
      method: 'PATCH',
      path: `/Users/${k.userId}`,
      body: patch({ op: 'add', value: bulky(300) }),
    }),
    status: 400,
    scimType: 'invalidValue',
  },
  {
    name: '10,000 levels of nesting in an unknown attribute',
    request: () => ({
      method: 'POST',
      path: '/Users',
      body: newUser({ [CUSTOM]: { deep: nested(10_000) } }),
    }),
    status: 400,
    scimType: 'invalidValue',
  },
  {
    name: '10,000 levels of nesting in a PATCH value',
    request: (k) => ({
      method: 'PATCH',
      path: `/Users/${k.userId}`,
      body: patch({ op: 'add', path: 'title', value: nested(10_000) }),
    }),
    status: 400,
    scimType: 'invalidValue',
  },
  {
    name: 'PATCH add emails "x"',
    request: (k) => ({
      method: 'PATCH',
      path: `/Users/${k.userId}`,
      body: patch({ op: 'add', path: 'emails', value: 'x' }),
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'emails',
  },
  {
    name: 'PATCH add emails 42',
    request: (k) => ({
      method: 'PATCH',
      path: `/Users/${k.userId}`,
      body: patch({ op: 'add', path: 'emails', value: 42 }),
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'emails',
  },
  {
    name: 'PATCH add emails [{"nope":1}]',
    request: (k) => ({
      method: 'PATCH',
      path: `/Users/${k.userId}`,
      body: patch({ op: 'add', path: 'emails', value: [{ nope: 1 }] }),
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'emails',
  },
  {
    name: 'a phone number whose value is a number',
    request: () => ({
      method: 'POST',
      path: '/Users',
      body: newUser({ phoneNumbers: [{ value: 5551234 }] }),
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'phoneNumbers',
  },
  {
    name: 'a title that is an object',
    request: (k) => ({ method: 'PUT', path: `/Users/${k.userId}`, body: newUser({ title: { a: 1 } }) }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'title',
  },
  {
    name: 'POST /Users with schemas ["urn:bogus"]',
    request: () => ({ method: 'POST', path: '/Users', body: { ...newUser(), schemas: ['urn:bogus'] } }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'schemas',
  },
  {
    name: 'POST /Users with the Group schema',
    request: () => ({ method: 'POST', path: '/Users', body: { ...newUser(), schemas: [GROUP] } }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'schemas',
  },
  {
    name: 'POST /Groups with the User schema',
    request: () => ({ method: 'POST', path: '/Groups', body: { schemas: [USER], displayName: 'Wrong' } }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'schemas',
  },
  {
    name: 'PATCH add a member that does not exist',
    request: (k) => ({
      method: 'PATCH',
      path: `/Groups/${k.groupId}`,
      body: patch({ op: 'add', path: 'members', value: [{ value: 'f9e1c3a0-0000-7000-8000-000000000000' }] }),
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'f9e1c3a0-0000-7000-8000-000000000000',
  },
  {
    name: 'PATCH add a member of another directory',
    request: (k) => ({
      method: 'PATCH',
      path: `/Groups/${k.groupId}`,
      body: patch({ op: 'add', path: 'members', value: [{ value: k.foreignUserId }] }),
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: (k) => k.foreignUserId,
  },
  {
    name: 'POST a group with a member that does not exist',
    request: (k) => ({
      method: 'POST',
      path: '/Groups',
      body: {
        schemas: [GROUP],
        displayName: 'With a stranger',
        members: [{ value: k.userId }, { value: 'no-such-user' }],
      },
    }),
    status: 400,
    scimType: 'invalidValue',
    detail: () => 'no-such-user',
  },
];

describe.each(DATABASES)('SCIM input limits on %s', (database) => {
  let scim: ScimDeployment;
  let known: Known;
  const logged: unknown[] = [];

  beforeAll(async () => {
    scim = await deployScim(database, 'jit_scim_limits', {
      copies: 1,
      service: { onError: (error) => logged.push(error) },
    });
    const user = await scim.request({ method: 'POST', path: '/Users', body: newUser() });
    const group = await scim.request({
      method: 'POST',
      path: '/Groups',
      body: {
        schemas: [GROUP],
        displayName: 'Engineering',
        members: [{ value: (user.body as { id: string }).id }],
      },
    });
    const store = scim.copies[0]!.store;
    const other = await createDirectory(store, { tenantId: 'globex', name: 'Globex directory' });
    const { token } = await issueDirectoryToken(store, other.id, { label: 'tests' });
    const foreign = await scim.request({
      method: 'POST',
      path: '/Users',
      headers: { authorization: `Bearer ${token}` },
      body: newUser(),
    });
    expect([user.status, group.status, foreign.status]).toEqual([201, 201, 201]);
    known = {
      userId: (user.body as { id: string }).id,
      groupId: (group.body as { id: string }).id,
      foreignUserId: (foreign.body as { id: string }).id,
    };
  });
  afterAll(() => scim?.close());

  it.each(CASES)('$name: $status $scimType', async (c) => {
    const response = await scim.request(c.request(known));
    const body = (response.body ?? {}) as { scimType?: string; detail?: string };
    expect({ status: response.status, scimType: body.scimType }).toEqual({
      status: c.status,
      scimType: c.scimType,
    });
    if (c.detail) expect(body.detail).toContain(c.detail(known));
  });

  it('keeps the group as it was after the refused member changes', async () => {
    const group = await scim.request({ method: 'GET', path: `/Groups/${known.groupId}` });
    expect((group.body as { members: { value: string }[] }).members.map((m) => m.value)).toEqual([
      known.userId,
    ]);
    const listed = await scim.request({
      method: 'GET',
      path: '/Groups',
      query: { filter: 'displayName eq "With a stranger"' },
    });
    expect((listed.body as { totalResults: number }).totalResults).toBe(0);
  });

  it('reads the 70 KB user back whole', async () => {
    const extension = bulky(70);
    const created = await scim.request({ method: 'POST', path: '/Users', body: newUser(extension) });
    expect(created.status).toBe(201);
    const read = await scim.request({ method: 'GET', path: `/Users/${(created.body as { id: string }).id}` });
    expect((read.body as Record<string, unknown>)[CUSTOM]).toEqual(extension[CUSTOM]);
  });

  it('logged no failure of the service while refusing all of that', () => {
    expect(logged).toEqual([]);
  });
});
