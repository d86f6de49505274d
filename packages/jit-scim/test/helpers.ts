import {
  MemoryDirectoryStore,
  type DirectoryStore,
  type Provisioner,
  type SeatAdmission,
} from '@jit-sso/core';
import {
  createDirectory,
  createScimService,
  issueDirectoryToken,
  type ScimResponse,
  type ScimService,
} from '../src/index.js';

export const BASE = 'https://app.example.test/scim/v2';
export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface Harness {
  store: DirectoryStore;
  service: ScimService;
  token: string;
  directoryId: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ScimResponse & { body: any }>;
}

export async function harness(
  options: {
    store?: DirectoryStore;
    tenantId?: string;
    connectionId?: string;
    provisioner?: Provisioner & SeatAdmission;
  } = {},
): Promise<Harness> {
  const store = options.store ?? new MemoryDirectoryStore();
  const directory = await createDirectory(store, {
    tenantId: options.tenantId ?? 'acme',
    connectionId: options.connectionId ?? null,
  });
  const { token } = await issueDirectoryToken(store, directory.id);
  const service = createScimService({
    store,
    baseUrl: BASE,
    ...(options.provisioner ? { provisioner: options.provisioner } : {}),
  });
  return {
    store,
    service,
    token,
    directoryId: directory.id,
    call: async (method, path, body, headers = {}) => {
      const [pathname, search] = path.split('?');
      return (await service.handle({
        method,
        path: pathname!,
        query: new URLSearchParams(search ?? ''),
        headers: { authorization: `Bearer ${token}`, ...headers },
        body,
      })) as ScimResponse & { body: any };
    },
  };
}

export const user = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER],
  userName,
  active: true,
  emails: [
    { value: userName.includes('@') ? userName : `${userName}@acme.test`, type: 'work', primary: true },
  ],
  ...extra,
});

export const patch = (...Operations: unknown[]) => ({ schemas: [PATCH], Operations });
