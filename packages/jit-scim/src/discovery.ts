import { ENTERPRISE_USER_SCHEMA } from '@jit-sso/core';
import type { InputLimits } from './limits.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
export { ENTERPRISE_USER_SCHEMA };

export interface Limits {
  maxResults: number;
  bulkMaxOperations: number;
  bulkMaxPayloadSize: number;
  /** What one resource may hold (lengths, nesting, size), the same on every store. */
  input: InputLimits;
}

type Attr = Record<string, unknown>;

function attr(name: string, options: Partial<Attr> & { sub?: Attr[] } = {}): Attr {
  const { sub, ...rest } = options;
  return {
    name,
    type: sub ? 'complex' : 'string',
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...(sub ? { subAttributes: sub } : {}),
    ...rest,
  };
}

const multi = (name: string, extra: Attr[] = [], description = '') =>
  attr(name, {
    multiValued: true,
    description,
    sub: [attr('value'), attr('display'), attr('type'), attr('primary', { type: 'boolean' }), ...extra],
  });

const USER_ATTRIBUTES: Attr[] = [
  attr('userName', { required: true, uniqueness: 'server', description: 'Unique identifier for the User.' }),
  attr('name', {
    sub: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map(
      (n) => attr(n),
    ),
  }),
  attr('displayName'),
  attr('nickName'),
  attr('profileUrl', { type: 'reference', referenceTypes: ['external'] }),
  attr('title'),
  attr('userType'),
  attr('preferredLanguage'),
  attr('locale'),
  attr('timezone'),
  attr('active', { type: 'boolean' }),
  attr('password', { mutability: 'writeOnly', returned: 'never' }),
  multi('emails'),
  multi('phoneNumbers'),
  multi('ims'),
  multi('photos'),
  attr('addresses', {
    multiValued: true,
    sub: ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type']
      .map((n) => attr(n))
      .concat([attr('primary', { type: 'boolean' })]),
  }),
  attr('groups', {
    multiValued: true,
    mutability: 'readOnly',
    sub: [
      attr('value', { mutability: 'readOnly' }),
      attr('$ref', { type: 'reference', mutability: 'readOnly' }),
      attr('display', { mutability: 'readOnly' }),
      attr('type', { mutability: 'readOnly' }),
    ],
  }),
  multi('entitlements'),
  multi('roles'),
  multi('x509Certificates', [], 'binary'),
];

const ENTERPRISE_ATTRIBUTES: Attr[] = [
  attr('employeeNumber'),
  attr('costCenter'),
  attr('organization'),
  attr('division'),
  attr('department'),
  attr('manager', {
    sub: [
      attr('value'),
      attr('$ref', { type: 'reference', referenceTypes: ['User'] }),
      attr('displayName', { mutability: 'readOnly' }),
    ],
  }),
];

const GROUP_ATTRIBUTES: Attr[] = [
  attr('displayName', { required: true }),
  attr('members', {
    multiValued: true,
    sub: [
      attr('value', { mutability: 'immutable' }),
      attr('$ref', { type: 'reference', referenceTypes: ['User'], mutability: 'immutable' }),
      attr('display'),
      attr('type', { canonicalValues: ['User'], mutability: 'immutable' }),
    ],
  }),
];

function meta(resourceType: string, location: string) {
  return { resourceType, location };
}

/** The published attributes of each schema, by schema URN; what request bodies are checked against. */
export const SCHEMA_ATTRIBUTES: ReadonlyMap<string, readonly Attr[]> = new Map([
  [USER_SCHEMA, USER_ATTRIBUTES],
  [ENTERPRISE_USER_SCHEMA, ENTERPRISE_ATTRIBUTES],
  [GROUP_SCHEMA, GROUP_ATTRIBUTES],
]);

export function schemaDocuments(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: USER_SCHEMA,
      name: 'User',
      description: 'User Account',
      attributes: USER_ATTRIBUTES,
      meta: meta('Schema', `${baseUrl}/Schemas/${USER_SCHEMA}`),
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: ENTERPRISE_USER_SCHEMA,
      name: 'EnterpriseUser',
      description: 'Enterprise User',
      attributes: ENTERPRISE_ATTRIBUTES,
      meta: meta('Schema', `${baseUrl}/Schemas/${ENTERPRISE_USER_SCHEMA}`),
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: GROUP_SCHEMA,
      name: 'Group',
      description: 'Group',
      attributes: GROUP_ATTRIBUTES,
      meta: meta('Schema', `${baseUrl}/Schemas/${GROUP_SCHEMA}`),
    },
  ];
}

export function resourceTypeDocuments(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
      meta: meta('ResourceType', `${baseUrl}/ResourceTypes/User`),
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: meta('ResourceType', `${baseUrl}/ResourceTypes/Group`),
    },
  ];
}

export function serviceProviderConfig(baseUrl: string, limits: Limits): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://github.com/jit-sso/jit-sso/tree/main/packages/jit-scim',
    patch: { supported: true },
    bulk: {
      supported: true,
      maxOperations: limits.bulkMaxOperations,
      maxPayloadSize: limits.bulkMaxPayloadSize,
    },
    filter: { supported: true, maxResults: limits.maxResults },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A directory token issued by the application, sent as "Authorization: Bearer <token>".',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

/** Canonical casing of known attribute names, by lower-cased name (for attributes created by PATCH). */
export const CANONICAL_NAMES: ReadonlyMap<string, string> = (() => {
  const names = new Map<string, string>();
  const visit = (list: Attr[]) => {
    for (const a of list) {
      const name = a['name'] as string;
      if (!names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
      if (Array.isArray(a['subAttributes'])) visit(a['subAttributes'] as Attr[]);
    }
  };
  visit(USER_ATTRIBUTES);
  visit(ENTERPRISE_ATTRIBUTES);
  visit(GROUP_ATTRIBUTES);
  names.set('externalid', 'externalId');
  names.set(ENTERPRISE_USER_SCHEMA.toLowerCase(), ENTERPRISE_USER_SCHEMA);
  return names;
})();
