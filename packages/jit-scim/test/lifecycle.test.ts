import { describe, expect, it } from 'vitest';
import {
  createProvisioner,
  fromOidcClaims,
  isJitError,
  MemoryDirectoryStore,
  type ConnectionInput,
} from '@jit-sso/core';
import { GROUP, harness, patch, user } from './helpers.js';

const ISSUER = 'https://login.acme.test';

function setup(
  connection: Partial<ConnectionInput> = {},
  tenant: { requireProvisionedUsers?: boolean; seatLimit?: number } = {},
) {
  const store = new MemoryDirectoryStore();
  const provisioner = createProvisioner({
    store,
    tenants: [{ id: 'acme', ...tenant }],
    connections: [
      {
        id: 'acme-oidc',
        tenantId: 'acme',
        protocol: 'oidc',
        issuer: ISSUER,
        jit: {
          verifiedDomains: ['acme.test'],
          roleRules: [
            { group: 'Admins', roles: ['admin'] },
            { group: 'grp-ext-42', roles: ['auditor'] },
          ],
          defaultRoles: ['member'],
        },
        ...connection,
      },
    ],
  });
  const login = (sub: string, email: string, extra: Record<string, unknown> = {}) =>
    provisioner.provision({
      connectionId: 'acme-oidc',
      profile: fromOidcClaims({ iss: ISSUER, sub, email, email_verified: true, ...extra }),
    });
  return { store, provisioner, login };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    if (isJitError(error)) return error.code;
    throw error;
  }
}

describe('SCIM users are the users JIT signs in', () => {
  it('links a provisioned user at the first SSO login instead of creating another', async () => {
    const { store, provisioner, login } = setup();
    const h = await harness({ store, provisioner, connectionId: 'acme-oidc' });
    const created = await h.call('POST', '/Users', user('ann@acme.test'));
    const first = await login('sub-ann', 'Ann@Acme.test');
    expect(first.action).toBe('linked');
    expect(first.user.id).toBe(created.body.id);
    expect(first.user.source).toBe('scim');
  });

  it('refuses logins of a user set active:false and ends their session at the next request; reactivation restores access', async () => {
    const { store, provisioner, login } = setup();
    const h = await harness({ store, provisioner, connectionId: 'acme-oidc' });
    const { body } = await h.call('POST', '/Users', user('bob@acme.test'));
    const session = await login('sub-bob', 'bob@acme.test');
    expect(await provisioner.getActiveUser(session.user.id)).not.toBeNull();

    await h.call('PATCH', `/Users/${body.id}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
    expect(await provisioner.getActiveUser(session.user.id)).toBeNull();
    expect(await codeOf(login('sub-bob', 'bob@acme.test'))).toBe('USER_DEACTIVATED');

    await h.call('PATCH', `/Users/${body.id}`, patch({ op: 'replace', path: 'active', value: true }));
    expect((await login('sub-bob', 'bob@acme.test')).user.id).toBe(body.id);
    const trail = (await store.listAuditEvents({ userId: body.id, limit: 20 })).map(
      (e) => `${e.actor}:${e.action}`,
    );
    expect(trail).toEqual([
      'scim:created',
      'jit:linked',
      'scim:deactivated',
      'jit:denied',
      'scim:reactivated',
      'jit:unchanged',
    ]);
  });

  it('refuses logins after DELETE', async () => {
    const { store, provisioner, login } = setup();
    const h = await harness({ store, provisioner, connectionId: 'acme-oidc' });
    const { body } = await h.call('POST', '/Users', user('cid@acme.test'));
    await login('sub-cid', 'cid@acme.test');
    await h.call('DELETE', `/Users/${body.id}`);
    expect(await codeOf(login('sub-cid', 'cid@acme.test'))).toBe('USER_DEACTIVATED');
    expect(await provisioner.getActiveUser(body.id)).toBeNull();
  });

  it('admits only provisioned users when the tenant requires it', async () => {
    const { store, provisioner, login } = setup({}, { requireProvisionedUsers: true });
    const h = await harness({ store, provisioner, connectionId: 'acme-oidc' });
    await h.call('POST', '/Users', user('dee@acme.test'));
    expect((await login('sub-dee', 'dee@acme.test')).action).toBe('linked');
    expect(await codeOf(login('sub-stranger', 'stranger@acme.test'))).toBe('USER_NOT_PROVISIONED');
  });

  it('keeps directory attributes when the connection makes the directory the authority', async () => {
    const { store, provisioner, login } = setup({ authority: 'directory' });
    const h = await harness({ store, provisioner, connectionId: 'acme-oidc' });
    const { body } = await h.call(
      'POST',
      '/Users',
      user('eli@acme.test', { name: { givenName: 'Eli', familyName: 'Directory' } }),
    );
    const result = await login('sub-eli', 'eli@acme.test', {
      given_name: 'Elias',
      family_name: 'FromIdP',
      groups: ['Admins'],
    });
    expect(result.user.attributes).toMatchObject({ firstName: 'Eli', lastName: 'Directory' });
    expect(result.user.roles).toEqual([]);
    expect((await store.findUserById(body.id))!.attributes).toMatchObject({ firstName: 'Eli' });
  });

  it('adopts an account JIT created earlier when the directory provisions the same address', async () => {
    const { store, provisioner, login } = setup();
    const h = await harness({ store, provisioner, connectionId: 'acme-oidc' });
    const jit = await login('sub-fay', 'fay@acme.test');
    const res = await h.call('POST', '/Users', user('fay@acme.test', { name: { givenName: 'Fay' } }));
    expect(res.status).toBe(201);
    expect(res.body.id).toBe(jit.user.id);
    expect((await store.findUserById(jit.user.id))!.attributes).toMatchObject({ firstName: 'Fay' });
    // A second directory entry for the same address does not take it over.
    const again = await h.call(
      'POST',
      '/Users',
      user('fay-2', { emails: [{ value: 'fay@acme.test', primary: true }] }),
    );
    expect(again.body.id).not.toBe(jit.user.id);
  });
});

describe('groups map to roles through the connection rules', () => {
  it('grants and removes scim roles as membership, names and groups change, keeping other grants', async () => {
    const { store, provisioner, login } = setup();
    const h = await harness({ store, provisioner, connectionId: 'acme-oidc' });
    const { body } = await h.call('POST', '/Users', user('gus@acme.test'));
    await login('sub-gus', 'gus@acme.test');
    const roles = async () =>
      (await store.findUserById(body.id))!.roles.map((g) => `${g.source}:${g.role}`).sort();
    expect(await roles()).toEqual(['jit:member']);

    const admins = (
      await h.call('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'Admins',
        members: [{ value: body.id }],
      })
    ).body.id;
    expect(await roles()).toEqual(['jit:member', 'scim:admin']);

    const byExternalId = (
      await h.call('POST', '/Groups', { schemas: [GROUP], displayName: 'Auditors', externalId: 'grp-ext-42' })
    ).body.id;
    await h.call(
      'PATCH',
      `/Groups/${byExternalId}`,
      patch({ op: 'add', path: 'members', value: [{ value: body.id }] }),
    );
    expect(await roles()).toEqual(['jit:member', 'scim:admin', 'scim:auditor']);

    await h.call(
      'PATCH',
      `/Groups/${admins}`,
      patch({ op: 'replace', path: 'displayName', value: 'Former admins' }),
    );
    expect(await roles()).toEqual(['jit:member', 'scim:auditor']);

    await h.call('DELETE', `/Groups/${byExternalId}`);
    expect(await roles()).toEqual(['jit:member']);

    // A later login recomputes only jit grants.
    await h.call(
      'PATCH',
      `/Groups/${admins}`,
      patch({ op: 'replace', path: 'displayName', value: 'Admins' }),
    );
    const after = await login('sub-gus', 'gus@acme.test', { groups: [] });
    expect(after.roles).toEqual(['admin', 'member']);
    const audit = await store.listAuditEvents({ userId: body.id, limit: 50 });
    expect(audit.filter((e) => e.reason === 'scim-groups').map((e) => e.changes[0]!.to)).toEqual([
      ['admin'],
      ['admin', 'auditor'],
      ['auditor'],
      [],
      ['admin'],
    ]);
  });
});

describe("the tenant's seat limit holds for the directory too", () => {
  async function full() {
    const { store, provisioner, login } = setup({}, { seatLimit: 2 });
    const scim = await harness({ store, provisioner, connectionId: 'acme-oidc' });
    expect((await scim.call('POST', '/Users', user('ann@acme.test'))).status).toBe(201);
    await login('bob-sub', 'bob@acme.test');
    return { store, scim };
  }
  const seatError = {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: '403',
    detail: expect.stringMatching(
      /^SEAT_LIMIT_REACHED: Tenant "acme" has reached its limit of 2 active users\./,
    ),
  };

  it('refuses to create an active user beyond the limit with 403 SEAT_LIMIT_REACHED, writing nothing', async () => {
    const { store, scim } = await full();
    const refused = await scim.call('POST', '/Users', user('cat@acme.test'));
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 403, body: seatError });
    expect(await store.findUserByEmail('acme', 'cat@acme.test')).toBeNull();
    expect((await scim.call('GET', '/Users?filter=userName eq "cat@acme.test"')).body.totalResults).toBe(0);
    expect(await store.countUsers({ tenantId: 'acme' })).toEqual({ active: 2, deactivated: 0 });
    // An inactive user takes no seat.
    expect((await scim.call('POST', '/Users', user('dan@acme.test', { active: false }))).status).toBe(201);
  });

  it('refuses to reactivate beyond the limit (PATCH and PUT), leaving the user deactivated', async () => {
    const { store, scim } = await full();
    const ann = (await scim.call('GET', '/Users?filter=userName eq "ann@acme.test"')).body.Resources[0];
    expect(
      (await scim.call('PATCH', `/Users/${ann.id}`, patch({ op: 'replace', path: 'active', value: false })))
        .status,
    ).toBe(204);
    expect((await scim.call('POST', '/Users', user('cat@acme.test'))).status).toBe(201);

    const refused = await scim.call(
      'PATCH',
      `/Users/${ann.id}`,
      patch(
        { op: 'replace', path: 'active', value: true },
        { op: 'replace', path: 'displayName', value: 'Ann' },
      ),
    );
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 403, body: seatError });
    const put = await scim.call('PUT', `/Users/${ann.id}`, user('ann@acme.test', { active: true }));
    expect(put.status).toBe(403);
    expect((await store.findUserById(ann.id))!.status).toBe('deactivated');
    const after = await scim.call('GET', `/Users/${ann.id}`);
    expect({ active: after.body.active, displayName: after.body.displayName }).toEqual({
      active: false,
      displayName: undefined,
    });

    // Freeing a seat lets the reactivation through.
    const cat = (await scim.call('GET', '/Users?filter=userName eq "cat@acme.test"')).body.Resources[0];
    await scim.call('DELETE', `/Users/${cat.id}`);
    expect(
      (await scim.call('PATCH', `/Users/${ann.id}`, patch({ op: 'replace', path: 'active', value: true })))
        .status,
    ).toBe(204);
    expect((await store.findUserById(ann.id))!.status).toBe('active');
  });
});
