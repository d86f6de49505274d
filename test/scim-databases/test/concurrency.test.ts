import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScimRequest } from '@jit-sso/scim';
import {
  DATABASES,
  deployScim,
  statementCounter,
  statusCounts,
  type ScimDeployment,
} from '../src/databases.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

// Two copies of the app on one database, requests alternating between them, as an IdP's workers
// reach an app behind a load balancer. SQLite serialises writers and would hide a lost update on
// its own: every case runs on PostgreSQL and MariaDB too.
describe.each(DATABASES)('concurrent SCIM writes on %s', (database) => {
  let scim: ScimDeployment;
  beforeAll(async () => {
    scim = await deployScim(database, 'jit_scim_concurrency');
  });
  afterAll(() => scim?.close());

  async function createUser(userName: string): Promise<{ id: string; etag: string }> {
    const created = await scim.request({
      method: 'POST',
      path: '/Users',
      body: { schemas: [USER], userName, name: { givenName: 'Ada', familyName: 'Lovelace' } },
    });
    expect(created.status).toBe(201);
    return { id: (created.body as { id: string }).id, etag: created.headers['ETag']! };
  }

  async function readUser(id: string): Promise<Record<string, unknown>> {
    const read = await scim.request({ method: 'GET', path: `/Users/${id}` });
    expect(read.status).toBe(200);
    return read.body as Record<string, unknown>;
  }

  it('keeps all 15 of 15 concurrent PATCHes that replace different attributes', async () => {
    const { id } = await createUser('patches@acme.test');
    const replacements: [string, unknown][] = [
      ['title', 'Engineer'],
      ['nickName', 'Ada'],
      ['displayName', 'Ada Lovelace'],
      ['name.givenName', 'Augusta'],
      ['name.familyName', 'King'],
      ['name.middleName', 'Ada'],
      ['name.honorificPrefix', 'Countess'],
      ['profileUrl', 'https://acme.test/ada'],
      ['userType', 'Employee'],
      ['preferredLanguage', 'en-GB'],
      ['locale', 'en-GB'],
      ['timezone', 'Europe/London'],
      [`${ENTERPRISE}:department`, 'Analytics'],
      [`${ENTERPRISE}:costCenter`, 'CC-1815'],
      [`${ENTERPRISE}:employeeNumber`, '1815'],
    ];
    const responses = await Promise.all(
      replacements.map(([path, value], i) =>
        scim.request(
          {
            method: 'PATCH',
            path: `/Users/${id}`,
            body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path, value }] },
          },
          i,
        ),
      ),
    );
    expect(responses.map((r) => r.status).every((s) => s === 200 || s === 204)).toBe(true);
    const user = await readUser(id);
    const name = user['name'] as Record<string, unknown>;
    const enterprise = user[ENTERPRISE] as Record<string, unknown>;
    expect({
      title: user['title'],
      nickName: user['nickName'],
      displayName: user['displayName'],
      'name.givenName': name['givenName'],
      'name.familyName': name['familyName'],
      'name.middleName': name['middleName'],
      'name.honorificPrefix': name['honorificPrefix'],
      profileUrl: user['profileUrl'],
      userType: user['userType'],
      preferredLanguage: user['preferredLanguage'],
      locale: user['locale'],
      timezone: user['timezone'],
      [`${ENTERPRISE}:department`]: enterprise?.['department'],
      [`${ENTERPRISE}:costCenter`]: enterprise?.['costCenter'],
      [`${ENTERPRISE}:employeeNumber`]: enterprise?.['employeeNumber'],
    }).toEqual(Object.fromEntries(replacements));
    // Each write made a version of its own.
    expect(user['meta']).toMatchObject({ version: 'W/"16"' });
  });

  it('keeps all 10 of 10 concurrent phone numbers added', async () => {
    const { id } = await createUser('phones@acme.test');
    const numbers = Array.from({ length: 10 }, (_, i) => `+44 20 7946 09${String(i).padStart(2, '0')}`);
    const responses = await Promise.all(
      numbers.map((value, i) =>
        scim.request(
          {
            method: 'PATCH',
            path: `/Users/${id}`,
            body: {
              schemas: [PATCH_OP],
              Operations: [{ op: 'add', path: 'phoneNumbers', value: [{ value, type: 'work' }] }],
            },
          },
          i,
        ),
      ),
    );
    expect(responses.map((r) => r.status).every((s) => s === 200 || s === 204)).toBe(true);
    const user = await readUser(id);
    const stored = (user['phoneNumbers'] as { value: string }[]).map((p) => p.value).sort();
    expect(stored).toEqual(numbers);
  });

  it('lets exactly one of 20 concurrent PUTs with the same If-Match win; the others get 412', async () => {
    const { id, etag } = await createUser('puts@acme.test');
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        scim.request(
          {
            method: 'PUT',
            path: `/Users/${id}`,
            headers: { 'if-match': etag },
            body: { schemas: [USER], userName: 'puts@acme.test', title: `Writer ${i}` },
          },
          i,
        ),
      ),
    );
    expect(statusCounts(responses)).toEqual({ 200: 1, 412: 19 });
    const winner = responses.findIndex((r) => r.status === 200);
    const user = await readUser(id);
    expect(user['title']).toBe(`Writer ${winner}`);
    expect(user['meta']).toMatchObject({ version: 'W/"2"' });
    const refused = responses.find((r) => r.status === 412)!;
    expect(refused.body).toMatchObject({ status: '412' });
  });

  it('lets exactly one of 10 concurrent group PATCHes with the same If-Match win', async () => {
    const members = await Promise.all(
      Array.from({ length: 10 }, (_, i) => createUser(`member${i}@acme.test`)),
    );
    const created = await scim.request({
      method: 'POST',
      path: '/Groups',
      body: { schemas: [GROUP], displayName: 'Analysts' },
    });
    expect(created.status).toBe(201);
    const groupId = (created.body as { id: string }).id;
    const etag = created.headers['ETag']!;
    const responses = await Promise.all(
      members.map((member, i) =>
        scim.request(
          {
            method: 'PATCH',
            path: `/Groups/${groupId}`,
            headers: { 'if-match': etag },
            body: {
              schemas: [PATCH_OP],
              Operations: [{ op: 'add', path: 'members', value: [{ value: member.id }] }],
            },
          },
          i,
        ),
      ),
    );
    const counts = statusCounts(responses);
    expect(counts[412]).toBe(9);
    expect((counts[200] ?? 0) + (counts[204] ?? 0)).toBe(1);
    const group = await scim.request({ method: 'GET', path: `/Groups/${groupId}` });
    expect((group.body as { members: unknown[] }).members).toHaveLength(1);
    expect((group.body as { meta: unknown }).meta).toMatchObject({ version: 'W/"2"' });
  });

  it('deletes a user once: of 10 concurrent DELETEs one answers 204 and nine 404', async () => {
    const { id } = await createUser('deleted@acme.test');
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => scim.request({ method: 'DELETE', path: `/Users/${id}` }, i)),
    );
    expect(statusCounts(responses)).toEqual({ 204: 1, 404: 9 });
    expect((await scim.request({ method: 'GET', path: `/Users/${id}` })).status).toBe(404);
  });

  it('deletes a group once: of 10 concurrent DELETEs one answers 204 and nine 404', async () => {
    const created = await scim.request({
      method: 'POST',
      path: '/Groups',
      body: { schemas: [GROUP], displayName: 'Temporary' },
    });
    const groupId = (created.body as { id: string }).id;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => scim.request({ method: 'DELETE', path: `/Groups/${groupId}` }, i)),
    );
    expect(statusCounts(responses)).toEqual({ 204: 1, 404: 9 });
  });
});

describe.each(DATABASES)('mixed concurrent SCIM writes on %s', (database) => {
  let scim: ScimDeployment;
  beforeAll(async () => {
    scim = await deployScim(database, 'jit_scim_concurrency_mixed');
  });
  afterAll(() => scim?.close());

  it('answers every write of a storm on shared users and groups without a conflict or a server error', async () => {
    const users = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const created = await scim.request({
          method: 'POST',
          path: '/Users',
          body: { schemas: [USER], userName: `storm${i}@acme.test` },
        });
        return (created.body as { id: string }).id;
      }),
    );
    const groups = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const created = await scim.request({
          method: 'POST',
          path: '/Groups',
          body: { schemas: [GROUP], displayName: `Storm ${i}`, members: [{ value: users[i] }] },
        });
        return (created.body as { id: string }).id;
      }),
    );
    const requests: ScimRequest[] = [
      ...groups.flatMap((group, g) =>
        users.map((user, u) => ({
          method: 'PATCH',
          path: `/Groups/${group}`,
          body: {
            schemas: [PATCH_OP],
            Operations: [
              { op: (g + u) % 3 === 0 ? 'remove' : 'add', path: 'members', value: [{ value: user }] },
            ],
          },
        })),
      ),
      ...users.map((user, u) => ({
        method: 'PATCH',
        path: `/Users/${user}`,
        body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `T${u}` }] },
      })),
      ...users.slice(0, 2).map((user) => ({ method: 'DELETE', path: `/Users/${user}` })),
      { method: 'DELETE', path: `/Groups/${groups[3]}` },
    ];
    const responses = await Promise.all(requests.map((r, i) => scim.request(r, i)));
    const deleted = new Set(users.slice(0, 2));
    // Adding a user that a concurrent DELETE removed is refused as an unknown member.
    const addsDeleted = (r: ScimRequest) =>
      JSON.stringify(r.body ?? {}).includes('"add"') &&
      [...deleted].some((id) => JSON.stringify(r.body ?? {}).includes(id));
    const unexpected = responses.filter(
      (r, i) =>
        ![200, 204, 404].includes(r.status) &&
        !(
          r.status === 400 &&
          addsDeleted(requests[i]!) &&
          (r.body as { scimType?: string }).scimType === 'invalidValue'
        ),
    );
    expect(unexpected.map((r) => [r.status, r.body])).toEqual([]);
    // Whatever the order, no group is left naming a user that no longer exists.
    for (const group of groups.slice(0, 3)) {
      const read = await scim.request({ method: 'GET', path: `/Groups/${group}` });
      const members = ((read.body as { members?: { value: string }[] }).members ?? []).map((m) => m.value);
      expect(members.filter((id) => deleted.has(id))).toEqual([]);
    }
  });
});

describe.each(DATABASES)('directory counts under concurrent creates and deletes on %s', (database) => {
  let scim: ScimDeployment;
  beforeAll(async () => {
    scim = await deployScim(database, 'jit_scim_concurrency_counts', { copies: 4 });
  });
  afterAll(() => scim?.close());

  const total = async (type: 'Users' | 'Groups') => {
    // startIndex 2: a page past the first, whose totalResults is the directory's count.
    const page = await scim.request({
      method: 'GET',
      path: `/${type}`,
      query: new URLSearchParams({ startIndex: '2', count: '1' }),
    });
    expect(page.status).toBe(200);
    return (page.body as { totalResults: number }).totalResults;
  };

  it('keeps totalResults equal to the rows after 16 concurrent creates and deletes, on more than one count row', async () => {
    const existing = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const created = await scim.request(
          { method: 'POST', path: '/Users', body: { schemas: [USER], userName: `before${i}@acme.test` } },
          i,
        );
        expect(created.status).toBe(201);
        return (created.body as { id: string }).id;
      }),
    );
    const groups = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const created = await scim.request(
          { method: 'POST', path: '/Groups', body: { schemas: [GROUP], displayName: `Counted ${i}` } },
          i,
        );
        return (created.body as { id: string }).id;
      }),
    );
    const requests: ScimRequest[] = [
      ...Array.from({ length: 16 }, (_, i) => ({
        method: 'POST',
        path: '/Users',
        body: { schemas: [USER], userName: `during${i}@acme.test` },
      })),
      ...existing.slice(0, 8).map((id) => ({ method: 'DELETE', path: `/Users/${id}` })),
      ...Array.from({ length: 6 }, (_, i) => ({
        method: 'POST',
        path: '/Groups',
        body: { schemas: [GROUP], displayName: `During ${i}` },
      })),
      ...groups.slice(0, 3).map((id) => ({ method: 'DELETE', path: `/Groups/${id}` })),
    ];
    const responses = await Promise.all(requests.map((r, i) => scim.request(r, i)));
    expect(statusCounts(responses)).toEqual({ 201: 22, 204: 11 });
    const store = scim.copies[0]!.store;
    const rows = async (type: 'User' | 'Group') =>
      (await store.queryResources({ directoryId: scim.directoryId, type, offset: 0, limit: 1000 })).resources
        .length;
    expect(await rows('User')).toBe(12 + 16 - 8);
    expect(await rows('Group')).toBe(4 + 6 - 3);
    expect(await total('Users')).toBe(12 + 16 - 8);
    expect(await total('Groups')).toBe(4 + 6 - 3);
    // The count of a directory is spread over rows, except on SQLite, whose writes run one at a time.
    const slots = await scim.copies[0]!.dataSource.query(
      `SELECT COUNT(*) AS n FROM jit_scim_counts WHERE directory_id = '${scim.directoryId}' AND type = 'User'`,
    );
    if (database === 'SQLite') expect(Number(slots[0].n)).toBe(1);
    else expect(Number(slots[0].n)).toBeGreaterThan(1);
  });
});

describe.each(DATABASES)('the statements of a PATCH on %s', (database) => {
  let scim: ScimDeployment;
  beforeAll(async () => {
    scim = await deployScim(database, 'jit_scim_patch_statements', { copies: 1 });
  });
  afterAll(() => scim?.close());

  it("reads the resource once, and deletes and inserts only the changed attributes' index rows, one statement each", async () => {
    const created = await scim.request({
      method: 'POST',
      path: '/Users',
      body: {
        schemas: [USER],
        userName: 'patched@acme.test',
        displayName: 'Before',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [{ value: 'patched@acme.test', type: 'work', primary: true }],
      },
    });
    const id = (created.body as { id: string }).id;
    const counter = statementCounter(scim.copies[0]!);
    const cost = await counter.count(async () => {
      const patched = await scim.request({
        method: 'PATCH',
        path: `/Users/${id}`,
        body: {
          schemas: [PATCH_OP],
          Operations: [
            { op: 'replace', path: 'displayName', value: 'After' },
            { op: 'replace', path: 'title', value: 'Engineer' },
          ],
        },
      });
      expect([200, 204]).toContain(patched.status);
    });
    const matching = (pattern: RegExp) => cost.sql.filter((sql) => pattern.test(sql));
    // One statement of PostgreSQL may carry several writes (WITH w0 AS (...), w1 AS (...)).
    expect(
      matching(/SELECT\b.*\bFROM ["`]jit_scim_resources["`]/s).filter((s) => !/^WITH w0/.test(s)),
    ).toHaveLength(1);
    expect(matching(/FROM ["`]jit_scim_values["`]/).filter((s) => /^\s*SELECT/.test(s))).toEqual([]);
    // The tenant user is read once too; on PostgreSQL with the resource's lock, in its round trip.
    const userReads = matching(/\b(FROM|JOIN) ["`]jit_users["`]/).filter((s) => /^\s*SELECT/.test(s));
    expect(userReads).toHaveLength(1);
    if (database === 'PostgreSQL') expect(userReads[0]).toMatch(/FROM "jit_scim_resources" r LEFT JOIN/);
    const deletes = cost.sql.flatMap((sql) => sql.match(/DELETE FROM ["`]jit_scim_values["`]/g) ?? []);
    const inserts = cost.sql.flatMap((sql) => sql.match(/INSERT INTO ["`]jit_scim_values["`]/g) ?? []);
    expect([deletes.length, inserts.length]).toEqual([1, 1]);
    const read = await scim.request({
      method: 'GET',
      path: '/Users',
      query: new URLSearchParams({ filter: 'displayName eq "after" and title eq "engineer"' }),
    });
    expect((read.body as { totalResults: number }).totalResults).toBe(1);
    const before = await scim.request({
      method: 'GET',
      path: '/Users',
      query: new URLSearchParams({ filter: 'displayName eq "Before" or name.givenName eq "ada"' }),
    });
    expect(
      (before.body as { Resources: { displayName: string }[] }).Resources.map((r) => r.displayName),
    ).toEqual(['After']);
  });
});
