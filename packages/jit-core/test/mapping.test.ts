import { describe, expect, it } from 'vitest';
import {
  buildMapping,
  fromOidcClaims,
  fromSamlProfile,
  mapProfile,
  MissingAttributeError,
  NAMEID_TRANSIENT,
  PRESET_NAMES,
  type SsoProfile,
} from '../src/index.js';
import {
  denial,
  insertUser,
  oidcConnection,
  oidcLogin,
  samlConnection,
  samlLogin,
  setup,
} from './fixtures.js';

const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const XMLSOAP = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
const MS = 'http://schemas.microsoft.com/identity/claims';
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OID = '4b7d1b4e-5a4a-4f0e-9d5c-3c2a1c0e9b11';

/** A profile shaped as node-saml returns it: attributes both under `attributes` and copied onto the profile. */
function nodeSamlProfile(
  issuer: string,
  nameID: string,
  nameIDFormat: string,
  attributes: Record<string, unknown>,
) {
  return {
    issuer,
    inResponseTo: '_req1',
    sessionIndex: '_sess1',
    nameID,
    nameIDFormat,
    nameQualifier: undefined,
    spNameQualifier: undefined,
    ...attributes,
    attributes,
    getAssertionXml: () => '<Assertion/>',
    getAssertion: () => ({}),
    getSamlResponseXml: () => '<Response/>',
  };
}

describe('presets map their identity provider’s real attribute names', () => {
  it('Okta SAML', () => {
    const profile = fromSamlProfile(
      nodeSamlProfile('http://www.okta.com/exk1abcd', '00u1abcd', EMAIL_FORMAT, {
        email: 'Ann.Lee@acme.test',
        firstName: 'Ann',
        lastName: 'Lee',
        groups: ['Everyone', 'Engineering'],
      }),
    );
    expect(mapProfile(profile, buildMapping('okta'))).toEqual({
      email: 'ann.lee@acme.test',
      groups: ['Everyone', 'Engineering'],
      attributes: { firstName: 'Ann', lastName: 'Lee' },
    });
  });

  it('Okta with a single group sent as a string', () => {
    const profile = fromSamlProfile(
      nodeSamlProfile('http://www.okta.com/exk1abcd', '00u1abcd', EMAIL_FORMAT, {
        email: 'ann@acme.test',
        groups: 'Engineering',
      }),
    );
    expect(mapProfile(profile, buildMapping('okta')).groups).toEqual(['Engineering']);
  });

  it('Microsoft Entra ID SAML (claim URIs, group object ids)', () => {
    const profile = fromSamlProfile(
      nodeSamlProfile(`https://sts.windows.net/${TID}/`, 'kz8Yq2m1Xb3', PERSISTENT, {
        [`${MS}/tenantid`]: TID,
        [`${MS}/objectidentifier`]: OID,
        [`${MS}/displayname`]: 'Ann Lee',
        [`${MS}/identityprovider`]: `https://sts.windows.net/${TID}/`,
        'http://schemas.microsoft.com/claims/authnmethodsreferences': [
          'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password',
        ],
        [`${XMLSOAP}/givenname`]: 'Ann',
        [`${XMLSOAP}/surname`]: 'Lee',
        [`${XMLSOAP}/emailaddress`]: 'ann@acme.test',
        [`${XMLSOAP}/name`]: 'ann@acme.onmicrosoft.test',
        'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': [
          'b1c2d3e4-0000-4000-8000-000000000001',
          'b1c2d3e4-0000-4000-8000-000000000002',
        ],
      }),
    );
    expect(mapProfile(profile, buildMapping('entra'))).toEqual({
      email: 'ann@acme.test',
      groups: ['b1c2d3e4-0000-4000-8000-000000000001', 'b1c2d3e4-0000-4000-8000-000000000002'],
      attributes: { firstName: 'Ann', lastName: 'Lee', displayName: 'Ann Lee', objectId: OID, tenantId: TID },
    });
  });

  it('Microsoft Entra ID SAML without the email claim falls back to the UPN name claim', () => {
    const profile = fromSamlProfile(
      nodeSamlProfile(`https://sts.windows.net/${TID}/`, 'kz8Yq2m1Xb3', PERSISTENT, {
        [`${XMLSOAP}/name`]: 'ann@acme.test',
        [`${MS}/objectidentifier`]: OID,
      }),
    );
    expect(mapProfile(profile, buildMapping('entra')).email).toBe('ann@acme.test');
  });

  it('Microsoft Entra ID OIDC (v2.0 ID token claims)', () => {
    const profile = fromOidcClaims({
      aud: '6731de76-14a6-49ae-97bc-6eba6914391e',
      iss: `https://login.microsoftonline.com/${TID}/v2.0`,
      iat: 1700000000,
      nbf: 1700000000,
      exp: 1700003600,
      name: 'Ann Lee',
      given_name: 'Ann',
      family_name: 'Lee',
      oid: OID,
      preferred_username: 'ann@acme.test',
      email: 'ann@acme.test',
      sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
      tid: TID,
      groups: ['b1c2d3e4-0000-4000-8000-000000000001'],
      uti: 'fqiBqXLPj0eQa82S-IYFAA',
      ver: '2.0',
    });
    expect(mapProfile(profile, buildMapping('entra-oidc'))).toEqual({
      email: 'ann@acme.test',
      groups: ['b1c2d3e4-0000-4000-8000-000000000001'],
      attributes: { firstName: 'Ann', lastName: 'Lee', displayName: 'Ann Lee', objectId: OID, tenantId: TID },
    });
  });

  it('Microsoft Entra ID OIDC without an email claim uses preferred_username', () => {
    const profile = fromOidcClaims({
      iss: 'x',
      sub: 's',
      preferred_username: 'Ann@Acme.test',
      oid: OID,
      tid: TID,
    });
    expect(mapProfile(profile, buildMapping('entra-oidc')).email).toBe('ann@acme.test');
  });

  it('Google Workspace SAML with the attributes the administrator mapped', () => {
    const profile = fromSamlProfile(
      nodeSamlProfile('https://accounts.google.com/o/saml2?idpid=C01abcd', 'ann@acme.test', EMAIL_FORMAT, {
        email: 'ann@acme.test',
        firstName: 'Ann',
        lastName: 'Lee',
        groups: ['eng@acme.test', 'all@acme.test'],
      }),
    );
    expect(mapProfile(profile, buildMapping('google'))).toEqual({
      email: 'ann@acme.test',
      groups: ['eng@acme.test', 'all@acme.test'],
      attributes: { firstName: 'Ann', lastName: 'Lee' },
    });
  });

  it('OneLogin SAML', () => {
    const profile = fromSamlProfile(
      nodeSamlProfile('https://app.onelogin.com/saml/metadata/1234', '12345678', EMAIL_FORMAT, {
        'User.email': 'ann@acme.test',
        'User.FirstName': 'Ann',
        'User.LastName': 'Lee',
        memberOf: ['Engineering', 'Admins'],
        PersonImmutableID: 'ann',
      }),
    );
    expect(mapProfile(profile, buildMapping('onelogin'))).toEqual({
      email: 'ann@acme.test',
      groups: ['Engineering', 'Admins'],
      attributes: { firstName: 'Ann', lastName: 'Lee' },
    });
  });

  it('generic SAML with LDAP OID attribute names (Shibboleth, Keycloak)', () => {
    const profile = fromSamlProfile(
      nodeSamlProfile('https://idp.university.test/idp/shibboleth', 'AbC123=', PERSISTENT, {
        'urn:oid:0.9.2342.19200300.100.1.3': 'ann@acme.test',
        'urn:oid:2.5.4.42': 'Ann',
        'urn:oid:2.5.4.4': 'Lee',
        'urn:oid:2.16.840.1.113730.3.1.241': 'Ann Lee',
        'urn:oid:1.3.6.1.4.1.5923.1.5.1.1': ['staff', 'library'],
      }),
    );
    expect(mapProfile(profile, buildMapping('saml'))).toEqual({
      email: 'ann@acme.test',
      groups: ['staff', 'library'],
      attributes: { firstName: 'Ann', lastName: 'Lee', displayName: 'Ann Lee' },
    });
  });

  it('generic OIDC standard claims, with userinfo merged in', () => {
    const profile = fromOidcClaims(
      { iss: 'https://idp.test', sub: 'u1', email: 'ann@acme.test', email_verified: true },
      { sub: 'u1', given_name: 'Ann', family_name: 'Lee', name: 'Ann Lee', groups: ['eng'] },
    );
    expect(profile.emailVerified).toBe(true);
    expect(mapProfile(profile, buildMapping('oidc'))).toEqual({
      email: 'ann@acme.test',
      groups: ['eng'],
      attributes: { firstName: 'Ann', lastName: 'Lee', displayName: 'Ann Lee' },
    });
  });

  it.each(PRESET_NAMES)('preset %s requires an email', (preset) => {
    const mapping = buildMapping(preset);
    expect(mapping['email']?.required).toBe(true);
    expect(mapping['groups']?.multi).toBe(true);
  });
});

describe('profiles', () => {
  it('keeps the raw SAML attributes, including those no mapping reads', () => {
    const profile = samlLogin({}, { 'urn:custom:costCentre': ['4711', '4712'] });
    expect(profile.attributes['urn:custom:costCentre']).toEqual(['4711', '4712']);
    expect(profile).toMatchObject({
      protocol: 'saml',
      subject: 'ann-nameid',
      subjectFormat: PERSISTENT,
      emailVerified: null,
    });
  });

  it('reads attributes copied onto a node-saml profile that has no attributes object, without its own keys', () => {
    const profile = fromSamlProfile({
      issuer: 'https://idp.test',
      nameID: 'n1',
      sessionIndex: '_s',
      email: 'ann@acme.test',
      getAssertionXml: () => '<secret/>',
    });
    expect(Object.keys(profile.attributes)).toEqual(['email']);
  });

  it('refuses a transient NameID, which changes at every login', () => {
    expect(() =>
      fromSamlProfile({ issuer: 'https://idp.test', nameID: '_8f2a', nameIDFormat: NAMEID_TRANSIENT }),
    ).toThrow(expect.objectContaining({ code: 'TRANSIENT_SUBJECT', httpStatus: 401 }));
  });

  it('refuses a SAML login without a NameID or an Issuer', () => {
    expect(() => fromSamlProfile({ issuer: 'https://idp.test', nameID: '  ' })).toThrow(
      expect.objectContaining({ code: 'INVALID_PROFILE', message: 'The login has no NameID.' }),
    );
    expect(() => fromSamlProfile({ nameID: 'n1' })).toThrow(
      expect.objectContaining({ code: 'INVALID_PROFILE' }),
    );
  });

  it('refuses OIDC claims without sub, and userinfo for another subject', () => {
    expect(() => fromOidcClaims({ iss: 'https://idp.test' })).toThrow(
      expect.objectContaining({ code: 'INVALID_PROFILE' }),
    );
    expect(() =>
      fromOidcClaims({ iss: 'https://idp.test', sub: 'a' }, { sub: 'b', email: 'x@acme.test' }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_PROFILE' }));
  });

  it('lets the ID token win over userinfo', () => {
    const profile = fromOidcClaims(
      { iss: 'https://idp.test', sub: 'a', email: 'ann@acme.test' },
      { email: 'other@acme.test', email_verified: true },
    );
    expect(profile.attributes['email']).toBe('ann@acme.test');
  });

  it('treats "__proto__" and other prototype names as plain attribute names', () => {
    const attributes = JSON.parse('{"email":"ann@acme.test","__proto__":"Ann the Admin","constructor":"c"}');
    const profile = fromSamlProfile({ issuer: 'https://idp.test', nameID: 'n1', attributes });
    expect(Object.hasOwn(profile.attributes, '__proto__')).toBe(true);
    const mapped = mapProfile(
      profile,
      buildMapping('saml', {
        nickname: '__proto__',
        maker: 'constructor',
        label: 'toString',
        kind: 'hasOwnProperty',
      }),
    );
    expect(mapped.attributes).toEqual({ nickname: 'Ann the Admin', maker: 'c' });
    expect(({} as Record<string, unknown>)['nickname']).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('does not take an email from the prototype chain', () => {
    const profile = fromOidcClaims(
      JSON.parse('{"iss":"x","sub":"s","__proto__":{"email":"admin@acme.test"}}'),
    );
    expect(() => mapProfile(profile, buildMapping('oidc'))).toThrow(
      expect.objectContaining({ code: 'MISSING_ATTRIBUTE' }),
    );
  });
});

describe('mapping overrides', () => {
  function mapped(
    profile: SsoProfile,
    overrides: Parameters<typeof buildMapping>[1],
    preset: Parameters<typeof buildMapping>[0] = 'oidc',
  ) {
    return mapProfile(profile, buildMapping(preset, overrides));
  }

  it('overrides one field and keeps the preset for the others', () => {
    const profile = oidcLogin({ email: 'wrong@acme.test', mail: 'ann@acme.test' });
    expect(mapped(profile, { email: 'mail' })).toMatchObject({
      email: 'ann@acme.test',
      attributes: { firstName: 'Ann', lastName: 'Lee' },
    });
  });

  it('removes a field with null', () => {
    expect(mapped(oidcLogin(), { lastName: null }).attributes).toEqual({ firstName: 'Ann' });
  });

  it('takes the first name in the list that is present and not blank', () => {
    const profile = oidcLogin({ nickname: '   ', given_name: 'Ann' });
    expect(mapped(profile, { firstName: ['nickname', 'given_name'] }).attributes['firstName']).toBe('Ann');
  });

  it('takes the first value of a multi-valued attribute for a single field, all values for a multi field', () => {
    const profile = oidcLogin({ department: ['R&D', 'Ops'] });
    expect(mapped(profile, { department: 'department' }).attributes['department']).toBe('R&D');
    expect(
      mapped(profile, { department: { from: 'department', multi: true } }).attributes['department'],
    ).toEqual(['R&D', 'Ops']);
  });

  it('refuses a login without a required field, naming it and the attributes that were present', () => {
    const profile = oidcLogin({ secret_hash: 'do-not-leak' });
    let error: unknown;
    try {
      mapped(profile, { employeeId: { from: ['employee_id', 'employeeNumber'], required: true } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingAttributeError);
    const missing = error as MissingAttributeError;
    expect(missing.message).toBe(
      'The required attribute "employeeId" is missing: looked for "employee_id", "employeeNumber"; the identity provider sent ' +
        '"iss", "sub", "email", "email_verified", "given_name", "family_name", "secret_hash".',
    );
    expect(missing.message).not.toContain('do-not-leak');
    expect(missing.details).toEqual({
      field: 'employeeId',
      expected: ['employee_id', 'employeeNumber'],
      present: ['iss', 'sub', 'email', 'email_verified', 'given_name', 'family_name', 'secret_hash'],
    });
  });

  it('says so when the identity provider sent no attributes at all', () => {
    const profile = fromSamlProfile({ issuer: 'https://idp.test', nameID: 'n1', attributes: {} });
    expect(() => mapProfile(profile, buildMapping('saml'))).toThrow(
      /the identity provider sent no attributes/,
    );
  });

  it('leaves an optional field out when it is missing', () => {
    expect(mapped(oidcLogin({ given_name: undefined }), {}).attributes).toEqual({ lastName: 'Lee' });
  });
});

describe('attribute sync in the decision', () => {
  it('updates every-login fields at each login and sets on-create fields once', async () => {
    const { provisioner } = setup({
      connections: [oidcConnection({ mapping: { department: { from: 'department', sync: 'on-create' } } })],
    });
    const first = await provisioner.provision({
      connectionId: 'acme-oidc',
      profile: oidcLogin({ department: 'R&D' }),
    });
    expect(first.user.attributes).toMatchObject({ department: 'R&D', firstName: 'Ann' });
    const again = await provisioner.provision({
      connectionId: 'acme-oidc',
      profile: oidcLogin({ department: 'Sales', given_name: 'Annie' }),
    });
    expect(again.user.attributes).toMatchObject({ department: 'R&D', firstName: 'Annie' });
    expect(again.changes).toEqual([{ field: 'firstName', from: 'Ann', to: 'Annie' }]);
  });

  it('sets an on-create field at a later login when the account does not have it yet', async () => {
    const { provisioner } = setup({
      connections: [oidcConnection({ mapping: { department: { from: 'department', sync: 'on-create' } } })],
    });
    await provisioner.provision({ connectionId: 'acme-oidc', profile: oidcLogin() });
    const again = await provisioner.provision({
      connectionId: 'acme-oidc',
      profile: oidcLogin({ department: 'R&D' }),
    });
    expect(again.changes).toEqual([{ field: 'department', from: null, to: 'R&D' }]);
  });

  it('treats mapped fields named like Object.prototype members as plain fields', async () => {
    const { provisioner, store } = setup({
      connections: [
        oidcConnection({
          mapping: { constructor: { from: 'ctor', sync: 'on-create' as const }, toString: 'label' },
        }),
      ],
    });
    const scim = await insertUser(store, { email: 'ann@acme.test' });
    const linked = await provisioner.provision({
      connectionId: 'acme-oidc',
      profile: oidcLogin({ ctor: 'c1', label: 'l1' }),
    });
    expect(linked.user.id).toBe(scim.id);
    expect(linked.user.attributes).toMatchObject({ constructor: 'c1', toString: 'l1' });
    expect(linked.changes).toContainEqual({ field: 'constructor', from: null, to: 'c1' });
    expect(linked.changes).toContainEqual({ field: 'toString', from: null, to: 'l1' });
  });

  it('uses the Entra preset end to end: SAML login with group object ids mapped to roles', async () => {
    const { provisioner } = setup({
      connections: [
        samlConnection(
          { issuer: `https://sts.windows.net/${TID}/`, preset: 'entra' },
          { roleRules: [{ group: 'b1c2d3e4-0000-4000-8000-000000000001', roles: ['admin'] }] },
        ),
      ],
    });
    const profile = fromSamlProfile(
      nodeSamlProfile(`https://sts.windows.net/${TID}/`, 'kz8Yq2m1Xb3', PERSISTENT, {
        [`${XMLSOAP}/emailaddress`]: 'ann@acme.test',
        [`${MS}/objectidentifier`]: OID,
        'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups':
          'b1c2d3e4-0000-4000-8000-000000000001',
      }),
    );
    const result = await provisioner.provision({ connectionId: 'acme-saml', profile });
    expect(result).toMatchObject({
      action: 'created',
      roles: ['admin'],
      user: { attributes: { objectId: OID } },
    });
  });

  it('refuses at login a required field the identity provider does not send', async () => {
    const { provisioner } = setup({
      connections: [oidcConnection({ mapping: { employeeId: { from: 'employee_id', required: true } } })],
    });
    const error = await denial(
      provisioner.provision({ connectionId: 'acme-oidc', profile: oidcLogin() }),
      'MISSING_ATTRIBUTE',
    );
    expect(error.details['field']).toBe('employeeId');
  });
});
