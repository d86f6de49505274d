import { expect } from 'vitest';
import {
  createProvisioner,
  fromOidcClaims,
  fromSamlProfile,
  JitError,
  MemoryStore,
  type ConnectionInput,
  type IdentityStore,
  type JitErrorCode,
  type NewUser,
  type ProvisionerOptions,
  type SsoProfile,
  type TenantInput,
} from '../src/index.js';

export const TENANT = 'acme';
export const OIDC_ISSUER = 'https://idp.acme.test';
export const SAML_ISSUER = 'https://saml.acme.test/metadata';

type JitOptions = NonNullable<ConnectionInput['jit']>;

/** An OIDC connection of tenant `acme` that trusts `acme.test`; override anything. */
export function oidcConnection(
  overrides: Partial<ConnectionInput> = {},
  jit: JitOptions = {},
): ConnectionInput {
  return {
    id: 'acme-oidc',
    tenantId: TENANT,
    protocol: 'oidc',
    issuer: OIDC_ISSUER,
    ...overrides,
    jit: { verifiedDomains: ['acme.test'], ...overrides.jit, ...jit },
  };
}

/** A SAML connection of tenant `acme` that trusts `acme.test`. */
export function samlConnection(
  overrides: Partial<ConnectionInput> = {},
  jit: JitOptions = {},
): ConnectionInput {
  return {
    id: 'acme-saml',
    tenantId: TENANT,
    protocol: 'saml',
    issuer: SAML_ISSUER,
    ...overrides,
    jit: { verifiedDomains: ['acme.test'], ...overrides.jit, ...jit },
  };
}

/** OIDC ID token claims for Ann at Acme with a verified email. */
export function oidcLogin(claims: Record<string, unknown> = {}): SsoProfile {
  return fromOidcClaims({
    iss: OIDC_ISSUER,
    sub: 'ann-sub',
    email: 'ann@acme.test',
    email_verified: true,
    given_name: 'Ann',
    family_name: 'Lee',
    ...claims,
  });
}

/** A node-saml profile for Ann at Acme (persistent NameID, generic SAML attribute names). */
export function samlLogin(
  fields: Record<string, unknown> = {},
  attributes: Record<string, unknown> = {},
): SsoProfile {
  return fromSamlProfile({
    issuer: SAML_ISSUER,
    nameID: 'ann-nameid',
    nameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    attributes: { email: 'ann@acme.test', givenName: 'Ann', sn: 'Lee', ...attributes },
    ...fields,
  });
}

export interface Setup {
  connections?: ConnectionInput[];
  tenants?: TenantInput[];
  store?: IdentityStore;
  options?: Partial<ProvisionerOptions>;
}

/** A provisioner over a fresh MemoryStore (or the given store) with the OIDC and SAML connections. */
export function setup({ connections, tenants, store, options }: Setup = {}) {
  const memory = store ?? new MemoryStore();
  const provisioner = createProvisioner({
    store: memory,
    connections: connections ?? [oidcConnection(), samlConnection()],
    ...(tenants ? { tenants } : {}),
    ...options,
  });
  return { store: memory, provisioner };
}

let seq = 0;

/** Inserts a user the way a SCIM directory or an administrator would: straight through a transaction. */
export async function insertUser(store: IdentityStore, user: Partial<NewUser> & { email: string }) {
  const at = user.createdAt ?? new Date('2026-01-01T00:00:00Z');
  return store.transaction((tx) =>
    tx.insertUser({
      id: `user-${++seq}`,
      tenantId: TENANT,
      status: 'active',
      source: 'scim',
      attributes: {},
      roles: [],
      externalId: null,
      lastLoginAt: null,
      ...user,
      createdAt: at,
    }),
  );
}

/** Links `subject` on `connectionId` to `userId` directly in the store. */
export async function insertIdentity(
  store: IdentityStore,
  userId: string,
  connectionId: string,
  subject: string,
) {
  return store.transaction((tx) =>
    tx.insertIdentity({
      id: `identity-${++seq}`,
      tenantId: TENANT,
      connectionId,
      subject,
      userId,
      createdAt: new Date(),
    }),
  );
}

/** Awaits `promise`, expects a `JitError` with `code`, and returns it for further checks. */
export async function denial(promise: Promise<unknown>, code: JitErrorCode): Promise<JitError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected a JitError ${code}`).toBeInstanceOf(JitError);
  expect((error as JitError).code).toBe(code);
  return error as JitError;
}

/** Every audit event of the tenant, oldest first. */
export async function auditTrail(store: IdentityStore, tenantId = TENANT) {
  return store.listAuditEvents({ tenantId, limit: 10_000 });
}

export async function allUsers(store: IdentityStore, tenantId = TENANT) {
  return store.listUsers({ tenantId, limit: 10_000 });
}
