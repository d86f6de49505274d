import { describe, expect, it } from 'vitest';
import { BASE, ENTERPRISE, USER, harness, patch, user } from './helpers.js';

describe('Users', () => {
  it('creates a user as a tenant user with source scim, and answers 201 with Location, meta and ETag', async () => {
    const h = await harness();
    const res = await h.call(
      'POST',
      '/Users',
      user('ann', { externalId: 'ext-1', name: { givenName: 'Ann', familyName: 'Lee' } }),
    );
    expect(res.status).toBe(201);
    expect(res.headers['Content-Type']).toBe('application/scim+json; charset=utf-8');
    expect(res.headers['Location']).toBe(`${BASE}/Users/${res.body.id}`);
    expect(res.headers['ETag']).toBe('W/"1"');
    expect(res.body.meta).toEqual({
      resourceType: 'User',
      created: expect.any(String),
      lastModified: expect.any(String),
      location: `${BASE}/Users/${res.body.id}`,
      version: 'W/"1"',
    });
    const stored = await h.store.findUserById(res.body.id);
    expect(stored).toMatchObject({
      tenantId: 'acme',
      email: 'ann@acme.test',
      source: 'scim',
      status: 'active',
      externalId: 'ext-1',
      attributes: { firstName: 'Ann', lastName: 'Lee' },
    });
    const audit = await h.store.listAuditEvents({ userId: res.body.id, limit: 10 });
    expect(audit.map((e) => [e.actor, e.action])).toEqual([['scim', 'created']]);
  });

  it('keeps attributes the app does not model, and the enterprise extension', async () => {
    const h = await harness();
    const created = await h.call(
      'POST',
      '/Users',
      user('bob', {
        schemas: [USER, ENTERPRISE],
        nickName: 'Bobby',
        'urn:example:custom:1.0:User': { badge: 17 },
        [ENTERPRISE]: {
          employeeNumber: '701984',
          department: 'Tour Operations',
          manager: { value: 'm-1', displayName: 'Boss' },
        },
      }),
    );
    const res = await h.call('GET', `/Users/${created.body.id}`);
    expect(res.body.nickName).toBe('Bobby');
    expect(res.body['urn:example:custom:1.0:User']).toEqual({ badge: 17 });
    expect(res.body[ENTERPRISE]).toMatchObject({ employeeNumber: '701984', department: 'Tour Operations' });
    expect(res.body.schemas).toContain(ENTERPRISE);
    expect((await h.store.findUserById(created.body.id))!.attributes).toMatchObject({
      department: 'Tour Operations',
    });
  });

  it('never stores or returns a password', async () => {
    const h = await harness();
    const created = await h.call('POST', '/Users', user('carol', { password: 't1meMa$heen' }));
    const res = await h.call('GET', `/Users/${created.body.id}`);
    expect(JSON.stringify(res.body)).not.toContain('t1meMa$heen');
    expect(JSON.stringify(created.body)).not.toContain('t1meMa$heen');
  });

  it('refuses a duplicate userName, ignoring case, with 409 uniqueness', async () => {
    const h = await harness();
    await h.call('POST', '/Users', user('dave'));
    const res = await h.call('POST', '/Users', user('DAVE'));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '409',
      scimType: 'uniqueness',
      detail: expect.stringContaining('DAVE'),
    });
  });

  it('refuses a user without userName, and a non-boolean active, with 400 invalidValue', async () => {
    const h = await harness();
    expect((await h.call('POST', '/Users', { schemas: [], active: true })).body).toMatchObject({
      status: '400',
      scimType: 'invalidValue',
    });
    expect((await h.call('POST', '/Users', user('x', { active: 'maybe' }))).body).toMatchObject({
      scimType: 'invalidValue',
    });
    expect((await h.call('POST', '/Users', 'not an object')).body).toMatchObject({
      scimType: 'invalidSyntax',
    });
  });

  it('replaces a user with PUT, dropping attributes not sent', async () => {
    const h = await harness();
    const created = await h.call(
      'POST',
      '/Users',
      user('erin', { title: 'Engineer', name: { givenName: 'Erin' } }),
    );
    const res = await h.call(
      'PUT',
      `/Users/${created.body.id}`,
      user('erin', { name: { givenName: 'Erin', familyName: 'Ng' } }),
    );
    expect(res.status).toBe(200);
    expect(res.body.title).toBeUndefined();
    expect(res.body.name).toEqual({ givenName: 'Erin', familyName: 'Ng' });
    expect(res.body.meta.version).toBe('W/"2"');
    expect((await h.store.findUserById(created.body.id))!.attributes).toEqual({
      firstName: 'Erin',
      lastName: 'Ng',
    });
  });

  it('gives a second directory user with an address already in use a placeholder address that never links', async () => {
    const h = await harness();
    const a = await h.call(
      'POST',
      '/Users',
      user('first', { emails: [{ value: 'shared@acme.test', primary: true }] }),
    );
    const b = await h.call(
      'POST',
      '/Users',
      user('second', { emails: [{ value: 'shared@acme.test', primary: true }] }),
    );
    expect(b.status).toBe(201);
    expect((await h.store.findUserById(a.body.id))!.email).toBe('shared@acme.test');
    expect((await h.store.findUserById(b.body.id))!.email).toBe(`${b.body.id}@scim.invalid`);
    expect(b.body.emails[0].value).toBe('shared@acme.test');
  });

  it('checks an updated address against the tenant, keeps a held one, and hands a freed one over', async () => {
    const h = await harness();
    const a = await h.call('POST', '/Users', user('first', { emails: [{ value: 'shared@acme.test' }] }));
    const b = await h.call('POST', '/Users', user('second', { emails: [{ value: 'b@acme.test' }] }));
    const emailOf = async (id: string) => (await h.store.findUserById(id))!.email;
    const change = (id: string, ...ops: unknown[]) => h.call('PATCH', `/Users/${id}`, patch(...ops));
    // Another user's address: b gets a placeholder, and keeps it while the address stays taken.
    expect(
      (await change(b.body.id, { op: 'replace', path: 'emails', value: [{ value: 'shared@acme.test' }] }))
        .status,
    ).toBe(204);
    expect(await emailOf(b.body.id)).toBe(`${b.body.id}@scim.invalid`);
    await change(b.body.id, { op: 'replace', path: 'displayName', value: 'Second' });
    expect(await emailOf(b.body.id)).toBe(`${b.body.id}@scim.invalid`);
    // Its own address: a keeps it through a change of something else.
    await change(a.body.id, { op: 'replace', path: 'displayName', value: 'First' });
    expect(await emailOf(a.body.id)).toBe('shared@acme.test');
    // Once a lets the address go, b's next change takes it.
    await change(a.body.id, { op: 'replace', path: 'emails', value: [{ value: 'a2@acme.test' }] });
    await change(b.body.id, { op: 'replace', path: 'displayName', value: 'Second again' });
    expect([await emailOf(a.body.id), await emailOf(b.body.id)]).toEqual([
      'a2@acme.test',
      'shared@acme.test',
    ]);
  });

  it('lists with filters, paging, sorting and attribute selection', async () => {
    const h = await harness();
    for (const name of ['zoe', 'amy', 'Mia', 'mike', 'olga']) {
      await h.call('POST', '/Users', user(name, { title: name.length > 3 ? 'long' : 'short' }));
    }
    const byName = await h.call('GET', '/Users?filter=userName%20sw%20%22m%22&sortBy=userName');
    expect(byName.body.Resources.map((r: any) => r.userName)).toEqual(['Mia', 'mike']);
    const page = await h.call('GET', '/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=2');
    expect(page.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(page.body.Resources.map((r: any) => r.userName)).toEqual(['olga', 'mike']);
    const complex = await h.call(
      'GET',
      `/Users?filter=${encodeURIComponent('title eq "long" and not (userName eq "mike")')}&sortBy=userName`,
    );
    expect(complex.body.Resources.map((r: any) => r.userName)).toEqual(['olga']);
    const valuePath = await h.call(
      'GET',
      `/Users?filter=${encodeURIComponent('emails[type eq "work" and value ew "amy@acme.test"]')}`,
    );
    expect(valuePath.body.Resources.map((r: any) => r.userName)).toEqual(['amy']);
    const selected = await h.call('GET', '/Users?attributes=userName&filter=userName%20eq%20zoe');
    expect(Object.keys(selected.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
    const excluded = await h.call('GET', '/Users?excludedAttributes=emails,meta&filter=userName%20eq%20zoe');
    expect(excluded.body.Resources[0].emails).toBeUndefined();
    expect(excluded.body.Resources[0].meta).toBeUndefined();
    expect(excluded.body.Resources[0].userName).toBe('zoe');
    const none = await h.call('GET', '/Users?count=0');
    expect(none.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
  });

  it('searches with POST /Users/.search and POST /.search', async () => {
    const h = await harness();
    await h.call('POST', '/Users', user('sam'));
    await h.call('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'sam-team',
    });
    const users = await h.call('POST', '/Users/.search', {
      filter: 'userName eq "sam"',
      startIndex: 1,
      count: 10,
    });
    expect(users.body.totalResults).toBe(1);
    const both = await h.call('POST', '/.search', {
      filter: 'userName eq "sam" or displayName eq "sam-team"',
    });
    expect(both.body.totalResults).toBe(2);
    expect(both.body.Resources.map((r: any) => r.meta.resourceType).sort()).toEqual(['Group', 'User']);
  });

  it('answers a malformed filter with 400 invalidFilter', async () => {
    const h = await harness();
    const res = await h.call('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidFilter');
  });

  it('answers 404 in the error schema for an unknown id', async () => {
    const h = await harness();
    const res = await h.call('GET', '/Users/nope');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status: '404', detail: expect.any(String) });
  });
});
