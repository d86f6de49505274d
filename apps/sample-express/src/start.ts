import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  ConfigurationError,
  createProvisioner,
  type Connection,
  type DirectoryRecord,
  type DirectoryStore,
  type Provisioner,
} from '@jit-sso/core';
import {
  createDirectory,
  createScimNodeHandler,
  createScimService,
  hashToken,
  type ScimNodeHandler,
  issueDirectoryToken,
  revokeDirectoryToken,
} from '@jit-sso/scim';
import { defaultSamlKeys, startDevIdp, type DevIdp } from '@jit-sso/dev-idp';
import { readOidcSettings } from '@jit-sso/express';
import { readSamlSettings } from '@jit-sso/express/protocol';
import {
  createJitDataSource,
  migrate,
  TypeormConfigurationStore,
  TypeormDirectoryStore,
  TypeormSignInTracer,
} from '@jit-sso/typeorm';
import { createAdminService, type AdminService } from '@jit-sso/protocol';
import { DemoDns } from './portal.js';
import type { Store } from 'express-session';
import type { ReplayCache } from '@jit-sso/express';
import { createSampleApp } from './app.js';
import { sharedState } from './shared-state.js';
import { DEFAULT_CONFIG_PATH, loadConfig, type SampleConfig } from './config.js';

export interface SampleOptions {
  /** The app's port; 0 picks a free one. The local identity providers take the next free port. */
  port?: number;
  /** `sqlite:<path>` (default `sqlite:jit-sample.sqlite`), `postgres://...`, `mysql://...`. */
  databaseUrl?: string;
  /** The connections file (JSON, or a TypeScript/JavaScript module with a default export). */
  configPath?: string | URL;
  /** Start the local identity providers (default true). */
  devIdp?: boolean;
  /** Listen interface (default 127.0.0.1). */
  host?: string;
  /** The demo directory's SCIM bearer token; default a random one issued at each start. */
  scimToken?: string;
  /**
   * The app's public origin, as browsers and identity providers reach it (default
   * `http://localhost:<port>`). An `https:` origin means a TLS-terminating proxy in front: session
   * cookies are then `Secure` and the proxy's `X-Forwarded-Proto` is trusted.
   */
  publicUrl?: string;
  /**
   * `redis://…`: sessions and the SAML replay cache in this Redis, so that several copies of the app
   * (on one database) serve the same users. Default: both in this process's memory.
   */
  redisUrl?: string;
  /**
   * The session cookie's signing secret (at least 32 characters). Default: a random one; with
   * `redisUrl`, one random secret the first copy keeps in Redis for the others.
   */
  sessionSecret?: string;
}

export interface DemoDirectory {
  readonly tenantId: string;
  readonly directoryId: string;
  readonly token: string;
}

export interface Sample {
  readonly url: string;
  readonly port: number;
  readonly idp: DevIdp | null;
  readonly connections: readonly Connection[];
  readonly databaseUrl: string;
  /** The migrations this start applied. */
  readonly migrations: readonly string[];
  /** The first tenant's SCIM directory and its bearer token. */
  readonly scim: DemoDirectory;
  readonly provisioner: Provisioner;
  close(): Promise<void>;
}

export const DEFAULT_DATABASE_URL = 'sqlite:jit-sample.sqlite';

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The first port from `from` on that is free (any free port when `from` is 0). */
async function freePort(from: number, host: string): Promise<number> {
  for (let port = from; port < from + 50 || from === 0; port++) {
    const probe = createServer();
    try {
      const found = await listen(probe, port, host);
      await closeServer(probe);
      return found;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || from === 0) throw error;
    }
  }
  throw new Error(`No free port between ${from} and ${from + 49}.`);
}

/** The apps the local identity providers must know: every connection whose IdP is the dev IdP. */
function registrations(connections: readonly Connection[], idpUrl: string) {
  const oidcClients = [];
  const samlServiceProviders = [];
  for (const connection of connections) {
    if (!connection.issuer.startsWith(`${idpUrl}/`)) continue;
    if (connection.protocol === 'oidc') {
      const oidc = readOidcSettings(connection);
      oidcClients.push({
        clientId: oidc.clientId,
        clientSecret: oidc.clientSecret ?? '',
        redirectUris: [oidc.redirectUri],
      });
    } else {
      const saml = readSamlSettings(connection);
      samlServiceProviders.push({ entityId: saml.spEntityId, acsUrls: [saml.acsUrl] });
    }
  }
  return { oidcClients, samlServiceProviders };
}

/** `PUBLIC_URL` as an origin: http(s), no path, query or fragment (the app serves from `/`). */
function publicOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`PUBLIC_URL must be a URL such as https://sso.example.com, not "${value}".`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigurationError(
      `PUBLIC_URL must be an http(s) origin without a path, such as https://sso.example.com, not "${value}".`,
    );
  }
  return url.origin;
}

/** Everything a sample app runs on, before the app itself is attached to `server`. */
export interface PreparedSample extends Sample {
  readonly server: Server;
  readonly config: SampleConfig;
  readonly store: TypeormDirectoryStore;
  /** The admin service behind the portal, and the demo DNS zone its domain checks read. */
  readonly admin: AdminService;
  readonly demoDns: DemoDns;
  /** The SCIM 2.0 Node handler of the demo directory, to mount at `/scim/v2`. */
  readonly scimHandler: ScimNodeHandler;
  /** The session store (`null`: express-session's memory store), shared through Redis with `redisUrl`. */
  readonly sessionStore: Store | null;
  /** The SAML replay cache, shared through Redis with `redisUrl`. */
  readonly replayCache: ReplayCache;
  readonly sessionSecret: string;
  /** Serves `handler` on `server` from now on, instead of the 503 answered while starting. */
  attach(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
}

/**
 * The answer while the sample starts: the port is taken first (the identity providers' port and the
 * connections' URLs follow from it), so requests can arrive before the app exists; they are told to
 * come back rather than left waiting on a socket nobody answers.
 */
function starting(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  res.statusCode = 503;
  res.setHeader('Retry-After', '2');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('The app is starting; retry shortly.\n');
}

/**
 * The sample's port plan and services: the app's port is taken first, the local identity providers
 * take the next free port, the connections file is read and validated with both URLs, the database
 * is migrated, and the engine and the demo SCIM directory are set up. Attach the app to `server`.
 */
export async function prepareSample(options: SampleOptions = {}): Promise<PreparedSample> {
  const host = options.host ?? '127.0.0.1';
  const databaseUrl = options.databaseUrl ?? DEFAULT_DATABASE_URL;
  const configPath = options.configPath ?? DEFAULT_CONFIG_PATH;
  const server = createServer(starting);
  const cleanups: (() => Promise<unknown>)[] = [() => closeServer(server)];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const port = await listen(server, options.port ?? 0, host);
    const url = options.publicUrl ? publicOrigin(options.publicUrl) : `http://localhost:${port}`;

    const shared = await sharedState({
      ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
      ...(options.sessionSecret !== undefined ? { sessionSecret: options.sessionSecret } : {}),
    });
    cleanups.push(() => shared.close());

    let idp: DevIdp | null = null;
    let loaded: Awaited<ReturnType<typeof loadConfig>>;
    if (options.devIdp ?? true) {
      const idpPort = await freePort(port === 0 ? 0 : port + 1, host);
      const idpUrl = `http://localhost:${idpPort}`;
      loaded = await loadConfig(configPath, {
        APP_URL: url,
        DEV_IDP_URL: idpUrl,
        DEV_IDP_SAML_CERT: defaultSamlKeys().certificate,
      });
      idp = await startDevIdp({ port: idpPort, host, ...registrations(loaded.connections, idpUrl) });
      cleanups.push(() => idp!.close());
    } else {
      loaded = await loadConfig(configPath, { APP_URL: url });
    }

    const dataSource = await createJitDataSource(databaseUrl);
    cleanups.push(() => dataSource.destroy());
    const migrations = await migrate(dataSource);
    const store = new TypeormDirectoryStore(dataSource);
    // Connections added in the admin portal live in the database, beside the static ones.
    const configuration = new TypeormConfigurationStore(dataSource);
    // Recent sign-in attempts in the database, values redacted, shared by every copy of the app.
    const tracer = new TypeormSignInTracer(dataSource);
    cleanups.push(() => tracer.flush());
    const provisioner = createProvisioner({
      store,
      tenants: loaded.config.tenants,
      connections: loaded.config.connections,
      configuration,
      onSignInAttempt: tracer.record,
    });
    cleanups.push(async () => provisioner.close?.());
    const demoDns = new DemoDns();
    const admin = createAdminService({
      configuration,
      publicUrl: url,
      tracer,
      // SCIM tokens issued and revoked by each tenant's administrator.
      directory: store,
      dns: demoDns,
      // The local IdP runs on this machine.
      documents: { allowPrivateNetworks: options.devIdp ?? true },
      onChange: () => provisioner.refreshConfiguration?.(),
    });

    const scim = await demoDirectory(store, loaded.connections[0]!, options.scimToken);
    const scimHandler = createScimNodeHandler(
      createScimService({ store, provisioner, baseUrl: `${url}/scim/v2` }),
    );
    return {
      server,
      url,
      port,
      idp,
      config: loaded.config,
      connections: loaded.connections,
      databaseUrl,
      migrations,
      store,
      provisioner,
      admin,
      demoDns,
      scim,
      scimHandler,
      sessionStore: shared.sessionStore,
      replayCache: shared.replayCache,
      sessionSecret: shared.sessionSecret,
      attach(handler) {
        server.off('request', starting);
        server.on('request', handler);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Starts the Express sample: `prepareSample` and the app. `close()` stops everything it started. */
export async function startSample(options: SampleOptions = {}): Promise<Sample> {
  const prepared = await prepareSample(options);
  try {
    const app = createSampleApp({
      provisioner: prepared.provisioner,
      connections: prepared.connections,
      publicUrl: prepared.url,
      idpUrl: prepared.idp?.url ?? null,
      scim: prepared.scimHandler,
      replayCache: prepared.replayCache,
      sessionSecret: prepared.sessionSecret,
      ...(prepared.sessionStore ? { sessionStore: prepared.sessionStore } : {}),
      portal: {
        admin: prepared.admin,
        dns: prepared.demoDns,
        idpMetadataUrl: prepared.idp?.saml.metadataUrl ?? null,
        ...(prepared.idp ? { registerAtIdp: prepared.idp.saml.register } : {}),
      },
    });
    prepared.attach(app);
    return prepared;
  } catch (error) {
    await prepared.close();
    throw error;
  }
}

const DEMO_TOKEN_LABEL = 'demo';
/** Issued tokens are 256-bit random; a chosen one must at least be long. */
const MIN_CHOSEN_TOKEN_LENGTH = 32;

/**
 * The first tenant's SCIM directory (created at the first start), with a bearer token: the one
 * given (it stays valid for this database), or a fresh random one. Either way, the random tokens of
 * earlier starts are revoked.
 */
async function demoDirectory(
  store: DirectoryStore,
  connection: Connection,
  token: string | undefined,
): Promise<DemoDirectory> {
  const tenantId = connection.tenantId;
  const directory: DirectoryRecord =
    (await store.listDirectories(tenantId))[0] ??
    (await createDirectory(store, {
      tenantId,
      name: `${tenantId} demo directory`,
      connectionId: connection.id,
    }));
  const previous = (await store.listTokens(directory.id)).filter(
    (t) => t.label === DEMO_TOKEN_LABEL && t.revokedAt === null,
  );
  if (token !== undefined && token.length < MIN_CHOSEN_TOKEN_LENGTH) {
    throw new ConfigurationError(
      `JIT_DEMO_SCIM_TOKEN must be at least ${MIN_CHOSEN_TOKEN_LENGTH} characters (a guessable token opens the directory); leave it unset for a random one.`,
    );
  }
  if (token) {
    // A chosen token (JIT_DEMO_SCIM_TOKEN): stored by its hash, like an issued one.
    const hash = hashToken(token);
    const known = await store.findTokenByHash(hash);
    if (known && (known.directoryId !== directory.id || known.revokedAt !== null)) {
      throw new ConfigurationError(
        'JIT_DEMO_SCIM_TOKEN is a revoked token or belongs to another directory; choose another value.',
      );
    }
    if (!known) {
      await store.directoryTransaction((tx) =>
        tx.insertToken({
          id: randomUUID(),
          directoryId: directory.id,
          hash,
          label: 'JIT_DEMO_SCIM_TOKEN',
          createdAt: new Date(),
        }),
      );
    }
  } else {
    token = (await issueDirectoryToken(store, directory.id, { label: DEMO_TOKEN_LABEL })).token;
  }
  for (const old of previous) await revokeDirectoryToken(store, old.id);
  return { tenantId, directoryId: directory.id, token };
}
