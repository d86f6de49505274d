import { describe, expect, it } from 'vitest';
import { MemoryDirectoryStore, StoreError } from '@jit-sso/core';
import { createScimService } from '../src/index.js';
import { ENTERPRISE, GROUP, USER, harness, patch, user } from './helpers.js';

const CUSTOM = 'urn:example:params:scim:schemas:extension:custom:2.0:User';

/** The status, scimType and detail of a refused request. */
async function refusal(promise: Promise<{ status: number; body: any }>) {
  const { status, body } = await promise;
  return { status, scimType: body?.scimType, detail: body?.detail as string };
}

describe('schema validation of users', () => {
  it.each([
    ['emails that are a string', { emails: 'ada@acme.test' }, 'emails'],
    ['an email that is not an object', { emails: ['ada@acme.test'] }, 'emails[0]'],
    ['an email with an unknown sub-attribute', { emails: [{ value: 'a@acme.test', nope: 1 }] }, 'nope'],
    [
      'a phone number whose value is a number',
      { phoneNumbers: [{ value: 5551234 }] },
      'phoneNumbers[0].value',
    ],
    ['an address that is a string', { addresses: ['1 Main St'] }, 'addresses[0]'],
    [
      'a primary flag that is not a boolean',
      { emails: [{ value: 'a@acme.test', primary: 'yes' }] },
      'primary',
    ],
    ['a title that is a number', { title: 42 }, 'title'],
    ['a name that is a string', { name: 'Ada Lovelace' }, 'name'],
    ['a name with an unknown part', { name: { givenName: 'Ada', nickname: 'A' } }, 'nickname'],
    [
      'an enterprise extension that is a string',
      { [ENTERPRISE]: 'x', schemas: [USER, ENTERPRISE] },
      ENTERPRISE,
    ],
    ['a department that is an object', { [ENTERPRISE]: { department: { a: 1 } } }, 'department'],
    ['schemas without the User schema', { schemas: [ENTERPRISE] }, 'schemas'],
    ['the Group schema on a user', { schemas: [USER, GROUP] }, 'schemas'],
    ['schemas that are not a list', { schemas: USER }, 'schemas'],
  ])('refuses %s with 400 invalidValue naming it', async (_, extra, named) => {
    const h = await harness();
    const result = await refusal(h.call('POST', '/Users', user('ada', extra)));
    expect(result).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(result.detail).toContain(named);
  });

  it('accepts what directories send: nulls, "True" flags, $ref, a manager id, no schemas at all', async () => {
    const h = await harness();
    const created = await h.call('POST', '/Users', {
      userName: 'grace@acme.test',
      name: { givenName: 'Grace', honorificPrefix: null },
      emails: [{ value: 'grace@acme.test', Primary: 'True', type: 'work', $ref: 'mailto:grace@acme.test' }],
      addresses: [{ type: 'work', formatted: '1 Main St\nSpringfield', country: null }],
      roles: [],
      [ENTERPRISE]: { manager: 'boss-1', department: 'Navy' },
    });
    expect(created.status).toBe(201);
    expect(created.body.addresses[0].formatted).toBe('1 Main St\nSpringfield');
  });

  it('keeps attributes no schema defines, at the top level and in unknown extensions', async () => {
    const h = await harness();
    const created = await h.call(
      'POST',
      '/Users',
      user('kept', { schemas: [USER, CUSTOM], adreses: [{ x: 1 }], [CUSTOM]: { badge: 17, tags: ['a'] } }),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ adreses: [{ x: 1 }], [CUSTOM]: { badge: 17, tags: ['a'] } });
  });

  it('checks the result of a PATCH: a wrong type added to emails is refused and nothing changes', async () => {
    const h = await harness();
    const { body } = await h.call('POST', '/Users', user('patched'));
    for (const value of ['x', 42, [{ nope: 1 }]]) {
      const result = await refusal(
        h.call('PATCH', `/Users/${body.id}`, patch({ op: 'add', path: 'emails', value })),
      );
      expect(result).toMatchObject({ status: 400, scimType: 'invalidValue' });
      expect(result.detail).toContain('emails');
    }
    expect((await h.call('GET', `/Users/${body.id}`)).body.emails).toEqual(body.emails);
  });
});

describe('input limits', () => {
  it.each([
    ['a line feed in userName', { userName: 'ada\n@acme.test' }, 'userName'],
    ['a bell in a title', { title: 'ring\u0007' }, 'title'],
    ['an unpaired surrogate', { nickName: 'a\ud800b' }, 'nickName'],
    ['a NUL in an attribute name', { 'ti\u0000tle': 'x' }, 'attribute name'],
    ['a userName that lower-cases past 256 characters', { userName: '\u0130'.repeat(200) }, 'userName'],
    ['an externalId of 256 characters', { externalId: 'e'.repeat(256) }, 'externalId'],
    ['a string of 8,193 characters', { [CUSTOM]: { note: 'n'.repeat(8193) } }, 'note'],
    ['33 levels of nesting', { [CUSTOM]: nested(32) }, 'nested deeper than 32'],
    ['1,001 values', { [CUSTOM]: { many: Array.from({ length: 1001 }, (_, i) => i) } }, '1000 values'],
  ])('refuses %s with 400 invalidValue', async (_, extra, named) => {
    const h = await harness();
    const result = await refusal(h.call('POST', '/Users', user('limits@acme.test', extra)));
    expect(result).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(result.detail).toContain(named);
  });

  it('accepts 32 levels of nesting, a 255-character externalId and 1,000 values', async () => {
    const h = await harness();
    const created = await h.call(
      'POST',
      '/Users',
      user('edge@acme.test', {
        externalId: 'e'.repeat(255),
        [CUSTOM]: { deep: nested(30), many: Array.from({ length: 990 }, (_, i) => i) },
      }),
    );
    expect(created.status).toBe(201);
  });

  it('refuses a control character in a filter value, escaped or not, as invalidValue', async () => {
    const h = await harness();
    for (const filter of ['userName eq "a\u0000b"', 'userName eq "a\\u0000b"', 'title eq "\\u0007"']) {
      const result = await refusal(h.call('GET', `/Users?filter=${encodeURIComponent(filter)}`));
      expect(result, filter).toMatchObject({ status: 400, scimType: 'invalidValue' });
    }
  });

  it('publishes its limits on the service', async () => {
    const h = await harness();
    expect(h.service.limits.input).toMatchObject({ userNameLength: 256, externalIdLength: 255, depth: 32 });
  });
});

describe('group members', () => {
  it('refuses a member that is not a user of the directory, naming it, and writes nothing', async () => {
    const h = await harness();
    const ada = (await h.call('POST', '/Users', user('ada'))).body.id;
    const group = (await h.call('POST', '/Groups', { schemas: [GROUP], displayName: 'Team' })).body.id;
    const result = await refusal(
      h.call(
        'PATCH',
        `/Groups/${group}`,
        patch({ op: 'add', path: 'members', value: [{ value: ada }, { value: 'ghost-1' }] }),
      ),
    );
    expect(result).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(result.detail).toContain('"ghost-1"');
    expect(result.detail).not.toContain(ada);
    expect((await h.call('GET', `/Groups/${group}`)).body.members).toEqual([]);
  });

  it('leaves out a plain-string member that names no user, as Microsoft’s validator expects', async () => {
    const h = await harness();
    const group = (await h.call('POST', '/Groups', { schemas: [GROUP], displayName: 'Garbage' })).body.id;
    const res = await h.call(
      'PATCH',
      `/Groups/${group}`,
      patch({ op: 'add', path: 'members', value: 'string id 1' }),
    );
    expect(res.status).toBe(204);
    expect((await h.call('GET', `/Groups/${group}`)).body.members).toEqual([]);
  });
});

describe('failures', () => {
  it('answers 503 when the store did not answer, and logs it with its cause but without the statement values', async () => {
    const store = new MemoryDirectoryStore();
    const h = await harness({ store });
    const logged: unknown[] = [];
    const driverError = Object.assign(new Error('Connection terminated unexpectedly'), {
      code: 'ECONNRESET',
      parameters: ['ada@acme.test'],
      detail: 'Key (email)=(ada@acme.test)',
    });
    store.directoryTransaction = () =>
      Promise.reject(new StoreError('The account database failed.', driverError));
    const service = createScimService({
      store,
      baseUrl: 'https://app.example.test/scim/v2',
      onError: (error) => logged.push(error),
    });
    const res = await service.handle({
      method: 'POST',
      path: '/Users',
      headers: { authorization: `Bearer ${h.token}` },
      body: user('ada@acme.test'),
    });
    expect(res.status).toBe(503);
    expect(logged).toHaveLength(1);
    const error = logged[0] as Error & { cause: Error & { cause: Record<string, unknown> } };
    expect(error.message).toBe('SCIM POST /Users failed: STORE_FAILURE');
    expect(error.cause.cause).toMatchObject({
      message: 'Connection terminated unexpectedly',
      code: 'ECONNRESET',
    });
    const logText: string[] = [];
    for (let e: any = error; e; e = e.cause)
      logText.push(...Object.getOwnPropertyNames(e).map((k) => String(e[k])));
    expect(logText.join('\n')).not.toContain('ada@acme.test');
  });
});

/** `{ x: { x: … { leaf: 1 } } }`, `levels` objects deep. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { x: value };
  return value;
}
