import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createProvisioner, type ConnectionInput, type IdentityStore, type Provisioner } from '@jit-sso/core';
import { createJitDataSource, migrate, TypeormDirectoryStore } from '@jit-sso/typeorm';
import { createDirectory, createScimService, issueDirectoryToken, type ScimService } from '@jit-sso/scim';
import type { IncomingHttpHeaders } from 'node:http';
import {
  LoginAdmission,
  RedisReplayCache,
  SamlValidationPool,
  type AdminCaller,
  type AdminService,
  type ReplayCache,
} from '@jit-sso/protocol';
import { IDP_KEY, OTHER_IDP_KEY, SP_KEY, TestSamlIdp } from './saml-idp.js';
import { TestOidcProvider } from './oidc-idp.js';
import { freePort } from './ports.js';

/** What an adapter app is built from. */
export type AppEnvironment = Pick<
  E2eEnvironment,
  | 'port'
  | 'baseUrl'
  | 'provisioner'
  | 'connections'
  | 'replayCache'
  | 'sessionSecret'
  | 'scim'
  | 'samlValidationPool'
  | 'loginAdmission'
> & {
  /**
   * The admin service to serve at `/admin/api`, and who calls it: the test names the caller in an
   * `x-admin` header (`<tenant>/<actor>`), where an app would read its own session.
   */
  readonly admin?: AdminService;
};

/** The caller of an admin request in the suite's apps: `x-admin: <tenant>/<actor>`. */
export function adminCallerOf(headers: IncomingHttpHeaders): AdminCaller | null {
  const value = headers['x-admin'];
  const match = typeof value === 'string' ? /^([^/]+)\/(.+)$/.exec(value) : null;
  return match ? { tenantId: match[1]!, actor: match[2]! } : null;
}

/** Everything an adapter app needs to serve the suite's routes, and what the tests inspect. */
export interface E2eEnvironment {
  /** The app must listen on 127.0.0.1:`port`; the connections' URLs point there. */
  readonly port: number;
  readonly baseUrl: string;
  readonly provisioner: Provisioner;
  readonly store: IdentityStore;
  readonly connections: readonly ConnectionInput[];
  /** Shared between processes (Redis); give it to the SAML strategy as its cache provider. */
  readonly replayCache: ReplayCache;
  /** Where the app's SAML strategy validates responses: a worker pool, or in-process when absent. */
  readonly samlValidationPool: SamlValidationPool | undefined;
  /**
   * With the pool: admission of the app's ACS posts (two at a time, four waiting), mounted before the body parser
   * where the framework allows. A login that did not give its turn back would stop the third.
   */
  readonly loginAdmission: LoginAdmission | undefined;
  /** Deletes everything the replay cache holds, as a Redis restart, flush or eviction would. */
  forgetReplayCache(): Promise<void>;
  readonly sessionSecret: string;
  /** The SCIM service of tenant `acme`'s directory (linked to `acme-oidc`); the app serves it at `/scim/v2`. */
  readonly scim: ScimService;
  /** A bearer token of that directory. */
  readonly scimToken: string;
  readonly saml: TestSamlIdp;
  readonly oidc: TestOidcProvider;
  close(): Promise<void>;
}

const ROLE_RULES = [
  { group: 'engineering', roles: ['developer'] },
  { group: 'admins', roles: ['admin'] },
];

export const OIDC_CLIENT_SECRET = 'e2e-client-secret-0123456789abcdef';

/** How the app validates SAML responses: on the event loop (the default), or in a worker pool. */
export type SamlValidationMode = 'in-process' | 'pool';

/** Starts both identity providers and builds the connections, the store and the provisioner. */
export async function createE2eEnvironment(
  samlValidation: SamlValidationMode = 'in-process',
): Promise<E2eEnvironment> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const saml = new TestSamlIdp();
  await saml.start();
  const oidcIds = ['acme-oidc', 'acme-oidc-partner', 'acme-oidc-entra', 'globex-oidc'];
  const oidc = new TestOidcProvider();
  await oidc.start(
    oidcIds.map((id) => ({
      client_id: id,
      client_secret: OIDC_CLIENT_SECRET,
      redirect_uris: [`${baseUrl}/auth/oidc/${id}/callback`],
    })),
  );

  const samlConnection = (
    id: string,
    tenantId: string,
    jit: ConnectionInput['jit'],
    extra: Record<string, unknown> = {},
  ): ConnectionInput => ({
    id,
    tenantId,
    protocol: 'saml',
    issuer: saml.entityIdFor(id),
    jit,
    protocolOptions: {
      saml: {
        entryPoint: saml.ssoUrlFor(id),
        idpCert: [IDP_KEY.cert],
        spEntityId: `${baseUrl}/auth/saml/${id}/metadata`,
        acsUrl: `${baseUrl}/auth/saml/${id}/acs`,
        privateKey: SP_KEY.key,
        publicCert: SP_KEY.cert,
        ...extra,
      },
    },
  });
  const oidcConnection = (
    id: string,
    tenantId: string,
    jit: ConnectionInput['jit'],
    extra: Partial<ConnectionInput> = {},
  ): ConnectionInput => ({
    id,
    tenantId,
    protocol: 'oidc',
    issuer: oidc.issuer,
    jit,
    ...extra,
    protocolOptions: {
      oidc: {
        clientId: id,
        clientSecret: OIDC_CLIENT_SECRET,
        redirectUri: `${baseUrl}/auth/oidc/${id}/callback`,
        scope: 'openid email profile groups tenant',
        allowInsecureRequests: true,
      },
    },
  });
  const acmeJit = {
    verifiedDomains: ['acme.test'],
    emailAuthoritative: true,
    defaultRoles: ['member'],
    roleRules: ROLE_RULES,
  };
  const connections: ConnectionInput[] = [
    samlConnection('acme-saml', 'acme', acmeJit),
    // Signs only the assertion, as Microsoft Entra ID does by default.
    samlConnection('acme-saml-entra', 'acme', acmeJit, { wantAuthnResponseSigned: false }),
    samlConnection('acme-saml-sha1', 'acme', acmeJit, { allowSha1: true }),
    samlConnection('acme-saml-nojit', 'acme', { ...acmeJit, mode: 'off' }),
    // During a certificate rollover both the current and the next certificate are pinned.
    samlConnection('acme-saml-rollover', 'acme', acmeJit, { idpCert: [IDP_KEY.cert, OTHER_IDP_KEY.cert] }),
    samlConnection('acme-saml-idp-initiated', 'acme', acmeJit, {
      allowIdpInitiated: true,
      relayStateAllowList: ['/dashboard'],
    }),
    samlConnection('globex-saml', 'globex', { verifiedDomains: ['globex.test'], emailAuthoritative: true }),
    oidcConnection('acme-oidc', 'acme', {
      verifiedDomains: ['acme.test'],
      defaultRoles: ['member'],
      roleRules: ROLE_RULES,
    }),
    // An IdP of the same tenant that is not authoritative for acme.test.
    oidcConnection('acme-oidc-partner', 'acme', { verifiedDomains: ['partner.test'] }),
    oidcConnection(
      'acme-oidc-entra',
      'acme',
      { verifiedDomains: ['acme.test'] },
      { allowedTenantIds: ['dir-acme'] },
    ),
    oidcConnection('globex-oidc', 'globex', { verifiedDomains: ['globex.test'] }),
  ];
  // The store an app would run on one process: TypeORM on SQLite (in memory, one per suite).
  const dataSource = await createJitDataSource('sqlite::memory:');
  await migrate(dataSource);
  const store = new TypeormDirectoryStore(dataSource);
  const provisioner = createProvisioner({ store, connections });
  const directory = await createDirectory(store, { tenantId: 'acme', connectionId: 'acme-oidc' });
  const { token: scimToken } = await issueDirectoryToken(store, directory.id, { label: 'e2e' });
  const scim = createScimService({ store, provisioner, baseUrl: `${baseUrl}/scim/v2` });
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const prefix = `jit-sso:e2e:${randomBytes(6).toString('hex')}:`;
  const replayCache = new RedisReplayCache(redis, prefix);
  // One thread: the suites of the three adapters run side by side.
  const samlValidationPool = samlValidation === 'pool' ? new SamlValidationPool({ threads: 1 }) : undefined;
  const loginAdmission =
    samlValidation === 'pool' ? new LoginAdmission({ limit: 2, maxWaiting: 4 }) : undefined;

  return {
    port,
    baseUrl,
    provisioner,
    store,
    connections,
    replayCache,
    samlValidationPool,
    loginAdmission,
    async forgetReplayCache() {
      // Only this suite's keys: the other adapters' suites share the Redis server.
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    },
    sessionSecret: randomBytes(32).toString('hex'),
    scim,
    scimToken,
    saml,
    oidc,
    async close() {
      await Promise.allSettled([saml.close(), oidc.close(), samlValidationPool?.close()]);
      redis.disconnect();
      await dataSource.destroy();
    },
  };
}
