import { describe, expect, it } from 'vitest';
import { MemoryDirectoryStore } from '@jit-sso/core';
import { createDirectory, issueDirectoryToken, revokeDirectoryToken, hashToken } from '../src/index.js';
import { BASE, GROUP, harness, patch, user } from './helpers.js';

describe('discovery', () => {
  it('serves ServiceProviderConfig (also as /serviceConfiguration), ResourceTypes and Schemas', async () => {
    const h = await harness();
    const spc = await h.call('GET', '/ServiceProviderConfig');
    expect(spc.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 },
      filter: { supported: true, maxResults: 200 },
      etag: { supported: true },
      sort: { supported: true },
    });
    expect((await h.call('GET', '/serviceConfiguration')).body).toEqual(spc.body);
    const types = await h.call('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: any) => r.endpoint)).toEqual(['/Users', '/Groups']);
    expect((await h.call('GET', '/ResourceTypes/Group')).body.schema).toBe(GROUP);
    const schemas = await h.call('GET', '/Schemas');
    expect(schemas.body.Resources.map((s: any) => s.name)).toEqual(['User', 'EnterpriseUser', 'Group']);
    expect(
      (await h.call('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User')).body.description,
    ).toBe('User Account');
  });
});

describe('directory tokens and tenancy', () => {
  it('refuses requests without a token, with a wrong one or a revoked one (401)', async () => {
    const h = await harness();
    const none = await h.service.handle({ method: 'GET', path: '/Users', headers: {} });
    expect(none.status).toBe(401);
    expect(none.headers['WWW-Authenticate']).toContain('Bearer');
    const wrong = await h.service.handle({
      method: 'GET',
      path: '/Users',
      headers: { authorization: `Bearer ${h.token}x` },
    });
    expect(wrong.status).toBe(401);
    const [token] = await h.store.listTokens(h.directoryId);
    await revokeDirectoryToken(h.store, token!.id);
    expect((await h.call('GET', '/Users')).status).toBe(401);
  });

  it('stores only the hash of a token, and accepts several active tokens during rotation', async () => {
    const h = await harness();
    const second = await issueDirectoryToken(h.store, h.directoryId, { label: 'rotation' });
    const tokens = await h.store.listTokens(h.directoryId);
    expect(tokens.map((t) => t.hash).sort()).toEqual([hashToken(h.token), hashToken(second.token)].sort());
    expect(JSON.stringify(tokens)).not.toContain(second.token);
    const both = [h.token, second.token];
    for (const token of both) {
      const res = await h.service.handle({
        method: 'GET',
        path: '/Users',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    }
    await revokeDirectoryToken(h.store, tokens.find((t) => t.hash === hashToken(h.token))!.id);
    expect(
      (
        await h.service.handle({
          method: 'GET',
          path: '/Users',
          headers: { authorization: `Bearer ${h.token}` },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await h.service.handle({
          method: 'GET',
          path: '/Users',
          headers: { authorization: `Bearer ${second.token}` },
        })
      ).status,
    ).toBe(200);
  });

  it('shows a token of tenant B nothing of tenant A: 404, not 403', async () => {
    const store = new MemoryDirectoryStore();
    const a = await harness({ store, tenantId: 'tenant-a' });
    const other = await createDirectory(store, { tenantId: 'tenant-b' });
    const { token: tokenB } = await issueDirectoryToken(store, other.id);
    const created = (await a.call('POST', '/Users', user('secret@a.test'))).body.id;
    const group = (
      await a.call('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'A team',
        members: [{ value: created }],
      })
    ).body.id;
    const asB = (method: string, path: string, body?: unknown) =>
      a.service.handle({ method, path, headers: { authorization: `Bearer ${tokenB}` }, body });
    for (const [method, path, body] of [
      ['GET', `/Users/${created}`],
      ['PUT', `/Users/${created}`, user('secret@a.test')],
      ['PATCH', `/Users/${created}`, patch({ op: 'replace', path: 'active', value: false })],
      ['DELETE', `/Users/${created}`],
      ['GET', `/Groups/${group}`],
      ['DELETE', `/Groups/${group}`],
    ] as const) {
      const res = await asB(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await asB('GET', '/Users')).body).toMatchObject({ totalResults: 0, Resources: [] });
    expect(((await asB('POST', '/.search', { filter: 'userName pr' })).body as any).totalResults).toBe(0);
    // A group of B cannot take A's user as a member: to B that id names no user.
    const bGroup = await asB('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'B team',
      members: [{ value: created }],
    });
    expect(bGroup.status).toBe(400);
    expect(bGroup.body).toMatchObject({ scimType: 'invalidValue', detail: expect.stringContaining(created) });
    expect((await asB('GET', '/Groups')).body).toMatchObject({ totalResults: 0 });
    expect((await store.findUserById(created))!.status).toBe('active');
  });
});

describe('ETags', () => {
  it('answers If-None-Match with 304 and a stale If-Match with 412', async () => {
    const h = await harness();
    const created = await h.call('POST', '/Users', user('etag'));
    const id = created.body.id;
    const etag = created.headers['ETag']!;
    expect((await h.call('GET', `/Users/${id}`, undefined, { 'if-none-match': etag })).status).toBe(304);
    const ok = await h.call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'title', value: 'x' }), {
      'if-match': etag,
    });
    expect(ok.status).toBe(204);
    expect(ok.headers['ETag']).toBe('W/"2"');
    const stale = await h.call('PUT', `/Users/${id}`, user('etag'), { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect((await h.call('DELETE', `/Users/${id}`, undefined, { 'if-match': etag })).status).toBe(412);
    expect((await h.call('GET', `/Users/${id}`, undefined, { 'if-none-match': etag })).status).toBe(200);
    expect((await h.call('DELETE', `/Users/${id}`, undefined, { 'if-match': 'W/"2"' })).status).toBe(204);
  });
});

describe('PATCH', () => {
  it('is all or nothing: a failing operation leaves the resource unchanged', async () => {
    const h = await harness();
    const { body } = await h.call('POST', '/Users', user('atomic', { title: 'before' }));
    const res = await h.call(
      'PATCH',
      `/Users/${body.id}`,
      patch(
        { op: 'replace', path: 'title', value: 'after' },
        { op: 'replace', path: 'active', value: 'perhaps' },
      ),
    );
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    const after = await h.call('GET', `/Users/${body.id}`);
    expect(after.body.title).toBe('before');
    expect(after.body.meta.version).toBe('W/"1"');
  });

  it('refuses an unknown op, a remove without path, a bad path and changes to id', async () => {
    const h = await harness();
    const { body } = await h.call('POST', '/Users', user('errs'));
    const cases: Array<[unknown, string]> = [
      [patch({ op: 'move', path: 'title', value: 1 }), 'invalidSyntax'],
      [patch({ op: 'remove' }), 'noTarget'],
      [patch({ op: 'replace', path: 'emails[type eq', value: 1 }), 'invalidPath'],
      [patch({ op: 'replace', path: 'id', value: 'other' }), 'mutability'],
      [{ Operations: [] }, 'invalidSyntax'],
    ];
    for (const [request, scimType] of cases) {
      const res = await h.call('PATCH', `/Users/${body.id}`, request);
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe(scimType);
    }
  });

  it('refuses a userName change to a taken name with 409', async () => {
    const h = await harness();
    await h.call('POST', '/Users', user('taken'));
    const { body } = await h.call('POST', '/Users', user('free'));
    const res = await h.call(
      'PATCH',
      `/Users/${body.id}`,
      patch({ op: 'replace', path: 'userName', value: 'TAKEN' }),
    );
    expect(res.status).toBe(409);
    expect(res.body.scimType).toBe('uniqueness');
  });
});

describe('Bulk', () => {
  it('creates users and a group that references them by bulkId', async () => {
    const h = await harness();
    const res = await h.call('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u1', data: user('bulk1') },
        { method: 'POST', path: '/Users', bulkId: 'u2', data: user('bulk2') },
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'g1',
          data: {
            schemas: [GROUP],
            displayName: 'Bulk',
            members: [{ value: 'bulkId:u1' }, { value: 'bulkId:u2' }],
          },
        },
        {
          method: 'PATCH',
          path: '/Users/bulkId:u1',
          data: patch({ op: 'replace', path: 'title', value: 'Lead' }),
        },
        { method: 'POST', path: '/Users', bulkId: 'dup', data: user('bulk1') },
      ],
    });
    expect(res.status).toBe(200);
    const ops = res.body.Operations;
    expect(ops.map((o: any) => o.status)).toEqual(['201', '201', '201', '204', '409']);
    expect(ops[0].location).toMatch(new RegExp(`^${BASE}/Users/`));
    expect(ops[4].response).toMatchObject({ scimType: 'uniqueness' });
    const groupId = ops[2].location.split('/').pop();
    const group = await h.call('GET', `/Groups/${groupId}`);
    expect(group.body.members).toHaveLength(2);
    const u1 = ops[0].location.split('/').pop();
    expect((await h.call('GET', `/Users/${u1}`)).body.title).toBe('Lead');
  });

  it('stops after failOnErrors errors, refuses unknown bulkIds and too many operations', async () => {
    const h = await harness();
    const res = await h.call('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      failOnErrors: 1,
      Operations: [
        {
          method: 'PATCH',
          path: '/Users/bulkId:nope',
          data: patch({ op: 'replace', path: 'title', value: 'x' }),
        },
        { method: 'POST', path: '/Users', bulkId: 'later', data: user('never') },
      ],
    });
    expect(res.body.Operations).toHaveLength(1);
    expect(res.body.Operations[0].status).toBe('409');
    expect((await h.call('GET', '/Users')).body.totalResults).toBe(0);
    const tooMany = await h.call('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: 1001 }, (_, i) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `b${i}`,
        data: user(`u${i}`),
      })),
    });
    expect(tooMany.status).toBe(413);
  });
});

describe('filters on memberships', () => {
  it('finds groups by their members (a membership check) and users by their groups', async () => {
    const h = await harness();
    const ann = (await h.call('POST', '/Users', user('ann'))).body;
    const bob = (await h.call('POST', '/Users', user('bob'))).body;
    const eng = (
      await h.call('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'Ingeniería',
        members: [{ value: ann.id, display: 'Ann Ärger' }, { value: bob.id }],
      })
    ).body;
    const ops = (
      await h.call('POST', '/Groups', { schemas: [GROUP], displayName: 'Ops', members: [{ value: bob.id }] })
    ).body;
    const ids = async (path: string) => {
      const res = await h.call('GET', path);
      expect(res.status).toBe(200);
      return res.body.Resources.map((r: any) => r.id).sort();
    };
    const q = (filter: string) => `filter=${encodeURIComponent(filter)}`;
    expect(
      await ids(
        `/Groups?${q(`id eq "${eng.id}" and members[value eq "${ann.id}"]`)}&excludedAttributes=members`,
      ),
    ).toEqual([eng.id]);
    expect(await ids(`/Groups?${q(`id eq "${ops.id}" and members[value eq "${ann.id}"]`)}`)).toEqual([]);
    expect(await ids(`/Groups?${q(`members eq "${bob.id}"`)}`)).toEqual([eng.id, ops.id].sort());
    expect(await ids(`/Groups?${q('members.display eq "ANN ÄRGER"')}`)).toEqual([eng.id]);
    expect(await ids(`/Users?${q('groups.display eq "ingeniería"')}`)).toEqual([ann.id, bob.id].sort());
    expect(await ids(`/Users?${q(`groups[value eq "${ops.id}"]`)}`)).toEqual([bob.id]);
    expect(await ids(`/Users?${q('not (groups.display eq "ops")')}`)).toEqual([ann.id]);
  });
});
