import { createProvisioner, MemoryDirectoryStore } from '@jit-sso/core';
import { createScimService, type ScimService } from './service.js';
import { createDirectory, issueDirectoryToken } from './tokens.js';

export interface ScimTestDirectory {
  store: MemoryDirectoryStore;
  scim: ScimService;
  /** The `Authorization` header value of the directory's token. */
  auth: string;
  directoryId: string;
}

/**
 * A SCIM service ready to mount in an adapter's tests: a memory store, an engine with one OIDC
 * connection (`acme-oidc`, tenant `acme`, verified domain `acme.test`), a directory linked to it and
 * a bearer token for it.
 */
export async function scimTestDirectory(baseUrl: string): Promise<ScimTestDirectory> {
  const store = new MemoryDirectoryStore();
  const provisioner = createProvisioner({
    store,
    connections: [
      {
        id: 'acme-oidc',
        tenantId: 'acme',
        protocol: 'oidc',
        issuer: 'https://idp.test',
        jit: { verifiedDomains: ['acme.test'] },
      },
    ],
  });
  const { id } = await createDirectory(store, { tenantId: 'acme', connectionId: 'acme-oidc' });
  const { token } = await issueDirectoryToken(store, id, { label: 'test' });
  return {
    store,
    scim: createScimService({ store, provisioner, baseUrl }),
    auth: `Bearer ${token}`,
    directoryId: id,
  };
}

/** A minimal SCIM User body. */
export const scimUser = (userName: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
});
