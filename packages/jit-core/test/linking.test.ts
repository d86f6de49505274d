import { describe, expect, it } from 'vitest';
import {
  allUsers,
  denial,
  insertIdentity,
  insertUser,
  oidcConnection,
  oidcLogin,
  samlConnection,
  samlLogin,
  setup,
} from './fixtures.js';

const oidc = { connectionId: 'acme-oidc' } as const;
const saml = { connectionId: 'acme-saml' } as const;

describe('linking a login to an existing account', () => {
  it('links a SCIM-created user at the first login, and signs them in unchanged after', async () => {
    const { provisioner, store } = setup({
      connections: [oidcConnection({}, { roleRules: [{ group: 'eng', roles: ['developer'] }] })],
    });
    const scim = await insertUser(store, {
      email: 'ann@acme.test',
      source: 'scim',
      externalId: 'okta-00u1',
      roles: [{ role: 'billing', source: 'scim' }],
    });
    const first = await provisioner.provision({ ...oidc, profile: oidcLogin({ groups: ['eng'] }) });
    expect(first.action).toBe('linked');
    expect(first.user).toMatchObject({ id: scim.id, source: 'scim', externalId: 'okta-00u1' });
    expect(first.roles).toEqual(['billing', 'developer']);
    expect(first.user.roles).toContainEqual({ role: 'billing', source: 'scim' });
    expect(first.user.roles).toContainEqual({ role: 'developer', source: 'jit' });
    const second = await provisioner.provision({ ...oidc, profile: oidcLogin({ groups: ['eng'] }) });
    expect(second).toMatchObject({ action: 'unchanged', user: { id: scim.id } });
    expect(await allUsers(store)).toHaveLength(1);
    expect(await store.listIdentitiesOfUser(scim.id)).toHaveLength(1);
  });

  it('never links a user who already has another identity on the same connection', async () => {
    const { provisioner, store } = setup();
    const ann = await insertUser(store, { email: 'ann@acme.test' });
    await insertIdentity(store, ann.id, 'acme-oidc', 'ann-original-sub');
    const error = await denial(
      provisioner.provision({ ...oidc, profile: oidcLogin({ sub: 'attacker-sub' }) }),
      'ACCOUNT_CONFLICT',
    );
    expect(error.message).toBe(
      'The account with this email is already linked to another identity of this identity provider.',
    );
    expect(await store.findIdentity('acme-oidc', 'attacker-sub')).toBeNull();
    expect(await store.listIdentitiesOfUser(ann.id)).toHaveLength(1);
  });

  it('links the same person arriving through a second connection of the tenant', async () => {
    const { provisioner, store } = setup({
      connections: [oidcConnection(), samlConnection({}, { emailAuthoritative: true })],
    });
    const viaOidc = await provisioner.provision({ ...oidc, profile: oidcLogin() });
    const viaSaml = await provisioner.provision({ ...saml, profile: samlLogin() });
    expect(viaSaml).toMatchObject({ action: 'linked', user: { id: viaOidc.user.id } });
    expect(await store.listIdentitiesOfUser(viaOidc.user.id)).toHaveLength(2);
  });

  it('refuses to link from SAML, which never says an email is verified, unless the connection is authoritative', async () => {
    const { provisioner, store } = setup();
    await insertUser(store, { email: 'ann@acme.test' });
    await denial(provisioner.provision({ ...saml, profile: samlLogin() }), 'EMAIL_NOT_VERIFIED');
    expect(await store.findIdentity('acme-saml', 'ann-nameid')).toBeNull();
  });

  it('links from an authoritative SAML connection', async () => {
    const { provisioner, store } = setup({ connections: [samlConnection({}, { emailAuthoritative: true })] });
    const ann = await insertUser(store, { email: 'ann@acme.test' });
    const result = await provisioner.provision({ ...saml, profile: samlLogin() });
    expect(result).toMatchObject({ action: 'linked', user: { id: ann.id } });
  });

  it('links from an authoritative OIDC connection that sends no email_verified claim', async () => {
    const { provisioner, store } = setup({ connections: [oidcConnection({}, { emailAuthoritative: true })] });
    const ann = await insertUser(store, { email: 'ann@acme.test' });
    const result = await provisioner.provision({
      ...oidc,
      profile: oidcLogin({ email_verified: undefined }),
    });
    expect(result.user.id).toBe(ann.id);
  });

  it('lets an explicit email_verified false win over an authoritative connection', async () => {
    const { provisioner, store } = setup({ connections: [oidcConnection({}, { emailAuthoritative: true })] });
    await insertUser(store, { email: 'ann@acme.test' });
    await denial(
      provisioner.provision({ ...oidc, profile: oidcLogin({ email_verified: false }) }),
      'EMAIL_NOT_VERIFIED',
    );
  });

  it.each([
    ['"true"', 'true', 'linked'],
    ['"True"', 'True', 'linked'],
  ])('reads email_verified sent as the string %s', async (_what, value, action) => {
    const { provisioner, store } = setup();
    await insertUser(store, { email: 'ann@acme.test' });
    const result = await provisioner.provision({ ...oidc, profile: oidcLogin({ email_verified: value }) });
    expect(result.action).toBe(action);
  });

  it.each([
    ['"False"', 'False'],
    ['"yes"', 'yes'],
    ['1', 1],
  ])('does not take email_verified %s as verified', async (_what, value) => {
    const { provisioner, store } = setup();
    await insertUser(store, { email: 'ann@acme.test' });
    await denial(
      provisioner.provision({ ...oidc, profile: oidcLogin({ email_verified: value }) }),
      'EMAIL_NOT_VERIFIED',
    );
  });

  it('checks the domain before looking for the account, so an unverified domain is never linked', async () => {
    const { provisioner, store } = setup();
    await insertUser(store, { email: 'ann@partner.test' });
    await denial(
      provisioner.provision({ ...oidc, profile: oidcLogin({ email: 'ann@partner.test' }) }),
      'DOMAIN_NOT_ALLOWED',
    );
  });

  it('does not look for the account in another tenant', async () => {
    const { provisioner, store } = setup();
    const elsewhere = await insertUser(store, { email: 'ann@acme.test', tenantId: 'globex' });
    const result = await provisioner.provision({ ...oidc, profile: oidcLogin() });
    expect(result.action).toBe('created');
    expect(result.user.id).not.toBe(elsewhere.id);
    expect(result.user.tenantId).toBe('acme');
  });

  it('still creates new people on a connection that never links', async () => {
    const { provisioner } = setup({ connections: [oidcConnection({}, { linking: 'never' })] });
    const result = await provisioner.provision({ ...oidc, profile: oidcLogin() });
    expect(result.action).toBe('created');
  });

  it('keys the identity on the subject, not the email: a new subject with a known email is a link, not a sign-in', async () => {
    const { provisioner, store } = setup();
    const first = await provisioner.provision({ ...oidc, profile: oidcLogin({ sub: 'one' }) });
    // The same email from a second subject of the same IdP is another identity wanting this account.
    await denial(provisioner.provision({ ...oidc, profile: oidcLogin({ sub: 'two' }) }), 'ACCOUNT_CONFLICT');
    expect(await store.listIdentitiesOfUser(first.user.id)).toEqual([
      expect.objectContaining({ subject: 'one' }),
    ]);
  });

  it('leaves the account untouched when a link is refused', async () => {
    const { provisioner, store } = setup();
    const ann = await insertUser(store, { email: 'ann@acme.test', attributes: { firstName: 'Anne' } });
    await denial(
      provisioner.provision({ ...oidc, profile: oidcLogin({ email_verified: false }) }),
      'EMAIL_NOT_VERIFIED',
    );
    expect(await store.findUserById(ann.id)).toEqual(ann);
  });
});
