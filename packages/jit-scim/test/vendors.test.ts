import { describe, expect, it } from 'vitest';
import { ENTERPRISE, GROUP, harness, patch, user } from './helpers.js';

// Request shapes from the vendors' public documentation (see REFERENCE.md, "SCIM 2.0 as real IdPs send it").

describe('Microsoft Entra ID', () => {
  it('accepts capitalised ops, "False" strings, enterprise URN paths and filtered paths that match nothing', async () => {
    const h = await harness();
    const created = await h.call('POST', '/Users', {
      schemas: [USER_SCHEMA, ENTERPRISE],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7d2c8e6b1c33',
      userName: 'Test_User_ab6490ee@contoso.test',
      active: 'True',
      emails: [{ primary: 'True', type: 'work', value: 'Test_User_ab6490ee@contoso.test' }],
      meta: { resourceType: 'User' },
      name: { familyName: 'familyName', givenName: 'givenName' },
      roles: [],
    });
    expect(created.status).toBe(201);
    expect(created.body.active).toBe(true);
    expect(created.body.emails[0].primary).toBe(true);
    const id = created.body.id;

    const res = await h.call(
      'PATCH',
      `/Users/${id}`,
      patch(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@contoso.test' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        { op: 'Add', path: 'addresses[type eq "work"].streetAddress', value: '1 Main St' },
        { op: 'Add', path: `${ENTERPRISE}:employeeNumber`, value: '4711' },
        { op: 'Replace', path: `${ENTERPRISE}:manager`, value: 'mgr-1' },
        { op: 'Replace', path: 'active', value: 'False' },
      ),
    );
    expect(res.status).toBe(204);
    const after = (await h.call('GET', `/Users/${id}`)).body;
    expect(after.emails).toEqual([{ primary: true, type: 'work', value: 'updatedEmail@contoso.test' }]);
    expect(after.name.familyName).toBe('updatedFamilyName');
    expect(after.addresses).toEqual([{ type: 'work', streetAddress: '1 Main St' }]);
    expect(after[ENTERPRISE]).toEqual({ employeeNumber: '4711', manager: 'mgr-1' });
    expect(after.active).toBe(false);
    expect((await h.store.findUserById(id))!).toMatchObject({
      status: 'deactivated',
      email: 'updatedemail@contoso.test',
    });
  });

  it('accepts a path-less replace with dotted keys (aadOptscim062020)', async () => {
    const h = await harness();
    const { body } = await h.call(
      'POST',
      '/Users',
      user('pathless@contoso.test', { name: { givenName: 'A', familyName: 'B' } }),
    );
    const res = await h.call(
      'PATCH',
      `/Users/${body.id}`,
      patch({
        op: 'replace',
        value: {
          active: false,
          'name.givenName': 'Alexa',
          displayName: 'Alexa B',
          [`${ENTERPRISE}:department`]: 'Sales',
          [ENTERPRISE]: { costCenter: 'CC-1' },
        },
      }),
    );
    expect(res.status).toBe(204);
    const after = (await h.call('GET', `/Users/${body.id}`)).body;
    expect(after).toMatchObject({
      active: false,
      displayName: 'Alexa B',
      name: { givenName: 'Alexa', familyName: 'B' },
    });
    expect(after[ENTERPRISE]).toEqual({ department: 'Sales', costCenter: 'CC-1' });
  });

  it('removes group members by value array and by filtered path, and filters groups by displayName', async () => {
    const h = await harness();
    const a = (await h.call('POST', '/Users', user('a@contoso.test'))).body.id;
    const b = (await h.call('POST', '/Users', user('b@contoso.test'))).body.id;
    const g = (
      await h.call('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'Sales',
        externalId: 'e-1',
        members: [],
      })
    ).body.id;
    await h.call(
      'PATCH',
      `/Groups/${g}`,
      patch({ op: 'Add', path: 'members', value: [{ value: a }, { value: b }] }),
    );
    expect((await h.call('GET', `/Groups/${g}`)).body.members.map((m: any) => m.value).sort()).toEqual(
      [a, b].sort(),
    );
    await h.call('PATCH', `/Groups/${g}`, patch({ op: 'Remove', path: 'members', value: [{ value: a }] }));
    expect((await h.call('GET', `/Groups/${g}`)).body.members.map((m: any) => m.value)).toEqual([b]);
    await h.call('PATCH', `/Groups/${g}`, patch({ op: 'remove', path: `members[value eq "${b}"]` }));
    expect((await h.call('GET', `/Groups/${g}`)).body.members).toEqual([]);
    const found = await h.call(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Sales"')}&excludedAttributes=members`,
    );
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].members).toBeUndefined();
  });

  it('finds a user by externalId with eq (test connection)', async () => {
    const h = await harness();
    await h.call('POST', '/Users', user('x@contoso.test', { externalId: 'Ext-ID' }));
    expect(
      (await h.call('GET', `/Users?filter=${encodeURIComponent('externalId eq "Ext-ID"')}`)).body
        .totalResults,
    ).toBe(1);
    // externalId is case-exact (RFC 7643), userName is not.
    expect(
      (await h.call('GET', `/Users?filter=${encodeURIComponent('externalId eq "ext-id"')}`)).body
        .totalResults,
    ).toBe(0);
    expect(
      (await h.call('GET', `/Users?filter=${encodeURIComponent('userName eq "X@CONTOSO.TEST"')}`)).body
        .totalResults,
    ).toBe(1);
  });
});

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe('Okta', () => {
  it('looks a user up by userName with startIndex and count, and answers an empty list with Resources []', async () => {
    const h = await harness();
    const miss = await h.call(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "dade@okta.test"')}&startIndex=1&count=100`,
    );
    expect(miss.status).toBe(200);
    expect(miss.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
    await h.call('POST', '/Users', user('dade@okta.test'));
    const hit = await h.call(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "dade@okta.test"')}&startIndex=1&count=100`,
    );
    expect(hit.body.totalResults).toBe(1);
  });

  it('updates a profile with PUT and deprovisions with active false, then reactivates', async () => {
    const h = await harness();
    const { body } = await h.call(
      'POST',
      '/Users',
      user('eve@okta.test', { name: { givenName: 'Eve', familyName: 'A' } }),
    );
    const put = await h.call(
      'PUT',
      `/Users/${body.id}`,
      user('eve@okta.test', { name: { givenName: 'Eve', familyName: 'B' }, active: false }),
    );
    expect(put.status).toBe(200);
    expect(put.body.active).toBe(false);
    expect((await h.store.findUserById(body.id))!.status).toBe('deactivated');
    await h.call('PATCH', `/Users/${body.id}`, patch({ op: 'replace', value: { active: true } }));
    expect((await h.store.findUserById(body.id))!.status).toBe('active');
    const actions = (await h.store.listAuditEvents({ userId: body.id, limit: 10 })).map((e) => e.action);
    expect(actions).toEqual(['created', 'updated', 'deactivated', 'reactivated']);
  });

  it('follows a group push: create, add, remove by filter, replace members, rename', async () => {
    const h = await harness();
    const ids: string[] = [];
    for (const n of ['p1', 'p2', 'p3'])
      ids.push((await h.call('POST', '/Users', user(`${n}@okta.test`))).body.id);
    const group = await h.call('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [],
    });
    expect(group.status).toBe(201);
    const gid = group.body.id;
    await h.call(
      'PATCH',
      `/Groups/${gid}`,
      patch({ op: 'add', path: 'members', value: [{ value: ids[0], display: 'p1@okta.test' }] }),
    );
    await h.call(
      'PATCH',
      `/Groups/${gid}`,
      patch({ op: 'add', path: 'members', value: [{ value: ids[1] }] }),
    );
    await h.call('PATCH', `/Groups/${gid}`, patch({ op: 'remove', path: `members[value eq "${ids[0]}"]` }));
    expect((await h.call('GET', `/Groups/${gid}`)).body.members.map((m: any) => m.value)).toEqual([ids[1]]);
    await h.call(
      'PATCH',
      `/Groups/${gid}`,
      patch({ op: 'replace', path: 'members', value: [{ value: ids[0] }, { value: ids[2] }] }),
    );
    await h.call(
      'PATCH',
      `/Groups/${gid}`,
      patch({ op: 'replace', value: { id: gid, displayName: 'Engineering Team' } }),
    );
    const after = (await h.call('GET', `/Groups/${gid}`)).body;
    expect(after.displayName).toBe('Engineering Team');
    expect(after.members.map((m: any) => m.value).sort()).toEqual([ids[0], ids[2]].sort());
    const ofUser = (await h.call('GET', `/Users/${ids[2]}`)).body;
    expect(ofUser.groups).toEqual([expect.objectContaining({ value: gid, display: 'Engineering Team' })]);
  });
});

describe('OneLogin', () => {
  it('probes a non-existent userName, then deletes users with DELETE', async () => {
    const h = await harness();
    const probe = await h.call('GET', `/Users?filter=${encodeURIComponent('userName eq "c2b4b3b0-probe"')}`);
    expect(probe.body.totalResults).toBe(0);
    const { body } = await h.call('POST', '/Users', user('ol@onelogin.test'));
    const del = await h.call('DELETE', `/Users/${body.id}`);
    expect(del.status).toBe(204);
    expect((await h.call('GET', `/Users/${body.id}`)).status).toBe(404);
    expect((await h.call('DELETE', `/Users/${body.id}`)).status).toBe(404);
    const account = await h.store.findUserById(body.id);
    expect(account!.status).toBe('deactivated');
    const events = await h.store.listAuditEvents({ userId: body.id, limit: 10 });
    expect(events.map((e) => [e.actor, e.action, e.reason])).toEqual([
      ['scim', 'created', 'scim'],
      ['scim', 'deactivated', 'scim-delete'],
      ['scim', 'deleted', 'scim-delete'],
    ]);
  });
});
