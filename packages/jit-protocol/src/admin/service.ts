import { SAML } from '@node-saml/node-saml';
import { z } from 'zod';
import {
  auditEvent,
  changeConfiguration,
  createDirectory,
  consoleLogger,
  describeError,
  defineStoredConnection,
  diffConfiguration,
  isJitError,
  isOutboxStore,
  listDeliveryFailures,
  listWebhookEndpoints,
  pauseWebhookEndpoint,
  redeliverWebhooks,
  registerWebhookEndpoint,
  rotateWebhookSecret,
  issueDirectoryToken,
  mapProfile,
  PRESET_NAMES,
  rolesForGroups,
  StoreConflictError,
  type Change,
  type Connection,
  type ConfigurationAction,
  type ConfigurationEvent,
  type ConfigurationStore,
  type ConfigurationTransaction,
  type ConnectionInput,
  type AddressResolver,
  type DeliveryRecord,
  type EndpointContext,
  type EndpointView,
  type IdentityStore,
  type JitLogger,
  type OutboxStore,
  type StoreReader,
  type WebhookMode,
  type DirectoryStore,
  type DirectoryTokenRecord,
  type PresetName,
  type StoredConnection,
  type StoredDomain,
  redactAttributes,
  type SignInTracer,
  type TracedAttempt,
} from '@jit-sso/core';
import { checkConnectionSettings } from '../connection-settings.js';
import { MemoryReplayCache } from '../replay-cache.js';
import { readSamlSettings, samlOptionsFor } from '../saml-options.js';
import {
  challengePublished,
  challengeRecord,
  defaultResolver,
  newChallenge,
  normaliseClaimedDomain,
  type DnsChallenge,
  type TxtResolver,
} from './domains.js';
import { AdminError, auditedAs, securityRefusalReason, toAdminError } from './errors.js';
import { fetchDocument, type DocumentFetchOptions } from './fetch.js';
import {
  detectOidcPreset,
  detectSamlPreset,
  discoveryUrlOf,
  isSamlMetadataSigned,
  parseOidcDiscovery,
  parseSamlMetadata,
  readCertificate,
  verifySamlMetadataSignature,
  type SigningCertificate,
} from './metadata.js';

/** Who calls the admin service: the app authenticates them and says which tenant they administer. */
export interface AdminCaller {
  /** The administrator, as the app names them (recorded with every change). */
  readonly actor: string;
  /** The one tenant they administer; everything else is invisible to them. */
  readonly tenantId: string;
}

/** The app's sign-in routes, with `:connection` where the connection id goes. */
export interface AdminRoutes {
  samlLogin: string;
  samlAcs: string;
  samlMetadata: string;
  oidcLogin: string;
  oidcCallback: string;
}

export const DEFAULT_ADMIN_ROUTES: AdminRoutes = {
  samlLogin: '/auth/saml/:connection/login',
  samlAcs: '/auth/saml/:connection/acs',
  samlMetadata: '/auth/saml/:connection/metadata',
  oidcLogin: '/auth/oidc/:connection/login',
  oidcCallback: '/auth/oidc/:connection/callback',
};

export interface AdminServiceOptions {
  configuration: ConfigurationStore;
  /** The app's public origin (`https://app.example.com`): the values to paste into the IdP are built from it. */
  publicUrl: string;
  routes?: Partial<AdminRoutes>;
  /** Recent sign-in attempts, for the tracer view and mapping previews. */
  tracer?: SignInTracer;
  /** The SCIM directory store (`TypeormDirectoryStore`): enables the tenant's SCIM token routes. */
  directory?: DirectoryStore;
  /** How metadata and discovery documents are fetched (fetch, timeout, size, private networks). */
  documents?: DocumentFetchOptions;
  /** TXT lookups for domain verification; default `node:dns/promises`. */
  dns?: TxtResolver;
  /** A certificate ending within this many days is reported as expiring (default 30). */
  certificateWarningDays?: number;
  /** After each committed change (e.g. `provisioner.refreshConfiguration`, an outbox). */
  onChange?: (event: ConfigurationEvent) => void | Promise<void>;
  /**
   * The tenant's webhook endpoints: the identity store, which must keep the outbox (`OutboxStore`,
   * as `TypeormStore` does); without it the webhook methods answer `WEBHOOKS_UNAVAILABLE`.
   */
  webhooks?: AdminWebhookOptions;
  /**
   * Where security refusals are audited (`denied`, actor `admin`, in the caller's tenant): the
   * identity store; default the webhooks store when it is one.
   */
  audit?: Pick<IdentityStore, 'transaction'>;
  /** Where security refusals are logged (warn) and failed audit writes (error); default console. */
  logger?: JitLogger;
  now?: () => Date;
}

export interface AdminWebhookOptions {
  store: StoreReader;
  /** `production` (default) accepts https URLs on public addresses only (`WEBHOOK_URL_REFUSED`). */
  mode?: WebhookMode;
  /** DNS lookups of endpoint hosts (tests); default the system resolver. */
  resolve?: AddressResolver;
}

/** A registered endpoint with its new signing secret, shown this once. */
export interface WebhookSecretView {
  readonly endpoint: EndpointView;
  readonly secret: string;
}

/** A SCIM bearer token as the administrator sees it: never the secret, nor its hash. */
export interface ScimTokenView {
  readonly id: string;
  readonly directoryId: string;
  readonly label: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** The values an administrator pastes into their IdP. */
export interface ServiceProviderValues {
  readonly loginUrl: string;
  /** SAML */
  readonly acsUrl: string | null;
  readonly entityId: string | null;
  readonly metadataUrl: string | null;
  /** OIDC */
  readonly redirectUri: string | null;
}

export interface CertificateReport {
  readonly subject: string;
  readonly fingerprint256: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly status: 'valid' | 'expiring' | 'expired' | 'not-yet-valid';
  readonly daysLeft: number;
  /** `current`, or `previous` while a rollover accepts it until `acceptedUntil`. */
  readonly role: 'current' | 'previous';
  readonly acceptedUntil: string | null;
}

export interface JitPolicyView {
  readonly mode: 'create' | 'link-only' | 'off';
  readonly linking: 'verified-email' | 'never';
  readonly emailAuthoritative: boolean;
  readonly defaultRoles: readonly string[];
  readonly roleRules: readonly { group: string; roles: readonly string[] }[];
  readonly strictRoles: boolean;
  readonly syncRoles: boolean;
  readonly groupsCaseInsensitive: boolean;
}

export interface ConnectionView {
  readonly id: string;
  readonly tenantId: string;
  readonly protocol: 'saml' | 'oidc';
  readonly displayName: string | null;
  readonly issuer: string;
  readonly version: number;
  readonly updatedAt: string;
  readonly preset: PresetName;
  /** The mapping overrides as the administrator set them (the preset fills the rest). */
  readonly mapping: Readonly<Record<string, unknown>>;
  readonly jit: JitPolicyView;
  /** The tenant's verified domains: the only ones JIT creation and linking by email trust. */
  readonly verifiedDomains: readonly string[];
  readonly serviceProvider: ServiceProviderValues;
  readonly saml: {
    readonly ssoUrl: string;
    readonly metadataUrl: string | null;
    readonly certificates: readonly CertificateReport[];
    readonly previousCertUntil: string | null;
  } | null;
  readonly oidc: {
    readonly clientId: string;
    readonly scope: string;
    readonly hasClientSecret: boolean;
  } | null;
}

export interface DomainView {
  readonly domain: string;
  readonly status: 'pending' | 'verified';
  readonly claimedAt: string;
  readonly verifiedAt: string | null;
  /** The TXT record to publish. */
  readonly dns: DnsChallenge;
}

export interface SamlImportReport {
  /** `verified` with a metadata certificate, `unsigned`, or `not-checked` (signed, no certificate given). */
  readonly signature: 'verified' | 'unsigned' | 'not-checked';
  readonly certificates: readonly CertificateReport[];
  readonly warnings: readonly string[];
}

export interface MappingPreview {
  readonly sample: { readonly at: string; readonly subject: string };
  /** `ok`, or the code of the refusal the draft would give this login. */
  readonly outcome: string;
  readonly message: string | null;
  readonly email: string | null;
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, readonly string[]>>;
  readonly roles: readonly string[] | null;
}

// ---- Input shapes ------------------------------------------------------------------------------

const text = z.string().trim().min(1);
const connectionId = text
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, 'may only contain letters, digits, ".", "_" and "-"');
const roleRule = z.strictObject({ group: text, roles: z.array(text).min(1) });
const jitPolicy = z.strictObject({
  mode: z.enum(['create', 'link-only', 'off']).optional(),
  linking: z.enum(['verified-email', 'never']).optional(),
  emailAuthoritative: z.boolean().optional(),
  defaultRoles: z.array(text).optional(),
  roleRules: z.array(roleRule).optional(),
  strictRoles: z.boolean().optional(),
  syncRoles: z.boolean().optional(),
  groupsCaseInsensitive: z.boolean().optional(),
});
const fieldSpec = z.union([
  text,
  z.array(text).min(1),
  z.strictObject({
    from: z.union([text, z.array(text).min(1)]),
    required: z.boolean().optional(),
    sync: z.enum(['on-create', 'every-login']).optional(),
    multi: z.boolean().optional(),
  }),
]);
const preset = z.enum(PRESET_NAMES as [PresetName, ...PresetName[]]);
const mapping = z.record(z.string(), fieldSpec.nullable());

const samlInput = z.strictObject({
  id: connectionId,
  displayName: text.max(255).optional(),
  metadataUrl: text.optional(),
  metadataXml: text.optional(),
  /** The certificate the metadata is signed with (PEM): the signature must verify with it. */
  metadataCert: text.optional(),
  entityId: text.optional(),
  preset: preset.optional(),
  mapping: mapping.optional(),
  jit: jitPolicy.optional(),
  allowIdpInitiated: z.boolean().optional(),
});
const oidcInput = z.strictObject({
  id: connectionId,
  displayName: text.max(255).optional(),
  /** The issuer URL, or its discovery document's URL. */
  issuer: text,
  clientId: text,
  clientSecret: text.optional(),
  scope: text.optional(),
  preset: preset.optional(),
  mapping: mapping.optional(),
  jit: jitPolicy.optional(),
});
const updateInput = z.strictObject({
  /** The version the administrator edited; a change made meanwhile is `VERSION_CONFLICT`. */
  expectedVersion: z.number().int().nonnegative(),
  displayName: text.max(255).nullable().optional(),
  preset: preset.optional(),
  mapping: mapping.optional(),
  jit: jitPolicy.optional(),
});
const scimTokenInput = z.strictObject({
  /** The tenant's directory; may be left out when the tenant has one (or none: it is created). */
  directoryId: text.max(128).optional(),
  label: z.string().trim().max(255).optional(),
});
const draftInput = z.strictObject({
  preset: preset.optional(),
  mapping: mapping.optional(),
  jit: jitPolicy.optional(),
});
const rolloverInput = z.strictObject({
  expectedVersion: z.number().int().nonnegative(),
  /** The new certificate (PEM or base64), or metadata that carries it. */
  certificate: text.optional(),
  metadataUrl: text.optional(),
  metadataXml: text.optional(),
  metadataCert: text.optional(),
  /** Until when the current certificate is still accepted (ISO 8601; default 7 days). */
  previousUntil: z.iso.datetime({ offset: true }).optional(),
});
const deleteInput = z.strictObject({ expectedVersion: z.number().int().nonnegative().optional() });
const webhookInput = z.strictObject({
  url: text.max(2048),
  /** Event types to receive; absent, `null` or empty for all. Unknown ones: `WEBHOOK_EVENT_TYPE_UNKNOWN`. */
  eventTypes: z.array(z.unknown()).nullable().optional(),
});
const rotateInput = z.strictObject({
  /** How long the previous secret still signs deliveries, in hours (default 24, at most 30 days). */
  overlapHours: z
    .number()
    .nonnegative()
    .max(30 * 24)
    .optional(),
});

function scimTokenView(token: DirectoryTokenRecord): ScimTokenView {
  return {
    id: token.id,
    directoryId: token.directoryId,
    label: token.label,
    createdAt: token.createdAt.toISOString(),
    revokedAt: token.revokedAt ? token.revokedAt.toISOString() : null,
  };
}

/** Revokes a token in the directory store, with the tenant's audit event, in one transaction. */
async function revokeScimTokenRecord(
  directory: DirectoryStore,
  tenantId: string,
  id: string,
  at: Date = new Date(),
): Promise<void> {
  await directory.directoryTransaction(async (tx) => {
    await tx.revokeToken(id, at);
    await tx.appendAudit(
      auditEvent({
        at,
        tenantId,
        actor: 'admin',
        action: 'deleted',
        reason: 'scim-token',
        changes: [{ field: 'token', from: id, to: null }],
      }),
    );
  });
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw new AdminError('INVALID_INPUT', `Invalid input: ${issues.join('; ')}`, { details: { issues } });
}

const DAY = 86_400_000;

// ---- The service -----------------------------------------------------------------------------

export type AdminService = ReturnType<typeof createAdminService>;

/**
 * Self-serve SSO onboarding, framework-free: a tenant's administrator creates and edits the
 * tenant's connections, claims and verifies email domains, maps attributes and groups, and reads
 * recent sign-in attempts. Every method takes the caller and sees only the caller's tenant: another
 * tenant's connection or domain is `NOT_FOUND`, as if it did not exist. Every change goes through
 * `changeConfiguration` (one transaction, the next version, an event with the actor), so it takes
 * effect on every copy of the app; every refusal is an `AdminError` and leaves nothing written.
 */
export function createAdminService(options: AdminServiceOptions) {
  const store = options.configuration;
  const now = options.now ?? (() => new Date());
  const routes = { ...DEFAULT_ADMIN_ROUTES, ...options.routes };
  const origin = options.publicUrl.replace(/\/+$/, '');
  const warnDays = options.certificateWarningDays ?? 30;
  const dns = options.dns ?? defaultResolver();
  const documents = options.documents ?? {};

  const url = (route: string, id: string) =>
    `${origin}${route.replace(':connection', encodeURIComponent(id))}`;

  function serviceProvider(id: string, protocol: 'saml' | 'oidc'): ServiceProviderValues {
    return protocol === 'saml'
      ? {
          loginUrl: url(routes.samlLogin, id),
          acsUrl: url(routes.samlAcs, id),
          entityId: url(routes.samlMetadata, id),
          metadataUrl: url(routes.samlMetadata, id),
          redirectUri: null,
        }
      : {
          loginUrl: url(routes.oidcLogin, id),
          acsUrl: null,
          entityId: null,
          metadataUrl: null,
          redirectUri: url(routes.oidcCallback, id),
        };
  }

  function checkCaller(caller: AdminCaller): AdminCaller {
    if (
      !caller ||
      typeof caller.actor !== 'string' ||
      caller.actor.trim() === '' ||
      typeof caller.tenantId !== 'string' ||
      caller.tenantId.trim() === ''
    ) {
      throw new AdminError('UNAUTHENTICATED', 'The caller is not an administrator of any tenant.');
    }
    return caller;
  }

  const logger = options.logger ?? consoleLogger;
  const hooksStore = options.webhooks?.store as Partial<IdentityStore> | undefined;
  const auditStore =
    options.audit ??
    (typeof hooksStore?.transaction === 'function' ? (hooksStore as IdentityStore) : undefined);

  /**
   * A security refusal (another tenant's object, another tenant, an SSRF-refused URL), once: logged
   * at warn and audited in the caller's tenant. A failed audit write is logged; the refusal stands.
   */
  async function reportRefusal(caller: AdminCaller, refused: AdminError): Promise<void> {
    const reason = securityRefusalReason(refused);
    if (reason === null) return;
    const record = { tenantId: caller.tenantId, actor: caller.actor, code: refused.code, reason };
    const line = `admin call refused (${reason}) for ${caller.actor} of tenant ${caller.tenantId}`;
    (logger.warn ?? logger.error).call(logger, record, line);
    if (!auditStore) return;
    try {
      const event = auditEvent({
        at: now(),
        tenantId: caller.tenantId,
        actor: 'admin',
        action: 'denied',
        subject: caller.actor,
        reason,
      });
      await auditStore.transaction((tx) => tx.appendAudit(event));
    } catch (error) {
      logger.error({ ...record, error: describeError(error) }, `audit of a refused admin call failed`);
    }
  }

  /** Runs a method, turning store and validation failures into `AdminError`s; audits security refusals. */
  async function guarded<T>(caller: AdminCaller, work: (caller: AdminCaller) => Promise<T>): Promise<T> {
    const checked = checkCaller(caller);
    try {
      return await work(checked);
    } catch (error) {
      const refused = toAdminError(error);
      await reportRefusal(checked, refused);
      throw refused;
    }
  }

  const notFound = (what: string, id: string) =>
    new AdminError('NOT_FOUND', `No ${what} "${id}" in this organisation.`, { details: { [what]: id } });
  /** Another tenant's object: answered as one that does not exist, audited with the real reason. */
  const foreign = (what: string, id: string) => auditedAs(notFound(what, id), 'ADMIN_CROSS_TENANT');

  function scimDirectoryStore(): DirectoryStore {
    if (!options.directory) {
      throw new AdminError('NOT_FOUND', 'SCIM provisioning is not enabled in this application.');
    }
    return options.directory;
  }

  async function ownConnection(
    reader: Pick<ConfigurationStore, 'getConnection'>,
    caller: AdminCaller,
    id: unknown,
  ): Promise<StoredConnection> {
    const stored = typeof id === 'string' ? await reader.getConnection(id) : null;
    // Another tenant's connection is answered as one that does not exist.
    if (!stored) throw notFound('connection', String(id));
    if (stored.tenantId !== caller.tenantId) throw foreign('connection', String(id));
    return stored;
  }

  /** The webhook methods' context: the outbox store, or `WEBHOOKS_UNAVAILABLE`. */
  function endpointContext(caller: AdminCaller): EndpointContext & { store: OutboxStore } {
    const hooks = options.webhooks;
    if (!hooks || !isOutboxStore(hooks.store)) {
      throw new AdminError(
        'WEBHOOKS_UNAVAILABLE',
        hooks
          ? 'The identity store keeps no outbox of lifecycle events: webhooks cannot be managed.'
          : 'Webhooks are not set up in this app.',
      );
    }
    return {
      store: hooks.store,
      mode: hooks.mode ?? 'production',
      actor: 'admin',
      subject: caller.actor,
      now,
      ...(hooks.resolve ? { resolve: hooks.resolve } : {}),
    };
  }

  /** Another tenant's endpoint is answered as one that does not exist, like a connection. */
  async function ownEndpoint(ctx: EndpointContext, caller: AdminCaller, id: unknown): Promise<void> {
    const endpoint = typeof id === 'string' ? await ctx.store.findEndpoint(id) : null;
    if (!endpoint) throw notFound('endpoint', String(id));
    if (endpoint.tenantId !== caller.tenantId) throw foreign('endpoint', String(id));
  }

  async function ownDomain(
    reader: Pick<ConfigurationStore, 'getDomain'>,
    caller: AdminCaller,
    domain: string,
  ): Promise<StoredDomain> {
    const stored = await reader.getDomain(domain);
    if (!stored) throw notFound('domain', domain);
    if (stored.tenantId !== caller.tenantId) throw foreign('domain', domain);
    return stored;
  }

  function certificateReport(
    cert: SigningCertificate,
    role: 'current' | 'previous',
    acceptedUntil: Date | null,
  ): CertificateReport {
    const at = now().getTime();
    const daysLeft = Math.floor((cert.validTo.getTime() - at) / DAY);
    const status =
      cert.validFrom.getTime() > at
        ? 'not-yet-valid'
        : cert.validTo.getTime() <= at
          ? 'expired'
          : daysLeft < warnDays
            ? 'expiring'
            : 'valid';
    return {
      subject: cert.subject,
      fingerprint256: cert.fingerprint256,
      validFrom: cert.validFrom.toISOString(),
      validTo: cert.validTo.toISOString(),
      status,
      daysLeft,
      role,
      acceptedUntil: acceptedUntil?.toISOString() ?? null,
    };
  }

  /** Validates a definition as logins will read it: the engine's rules and the protocol settings. */
  function validate(definition: ConnectionInput, verifiedDomains: readonly string[] = []): Connection {
    const connection = defineStoredConnection({
      ...definition,
      jit: { ...definition.jit, verifiedDomains: [...verifiedDomains] },
    });
    checkConnectionSettings(connection);
    return connection;
  }

  async function view(stored: StoredConnection): Promise<ConnectionView> {
    const domains = (await store.listDomains(stored.tenantId))
      .filter((d) => d.status === 'verified')
      .map((d) => d.domain);
    const connection = validate(stored.definition, domains);
    const options = connection.protocolOptions;
    let saml: ConnectionView['saml'] = null;
    let oidc: ConnectionView['oidc'] = null;
    if (connection.protocol === 'saml') {
      const settings = readSamlSettings(connection);
      const certs = [...settings.idpCert];
      saml = {
        ssoUrl: settings.entryPoint,
        metadataUrl: typeof options['metadataUrl'] === 'string' ? options['metadataUrl'] : null,
        certificates: certs.map((pem, i) =>
          certificateReport(
            readCertificate(pem),
            i === 0 ? 'current' : 'previous',
            i === 0 ? null : settings.previousCertUntil,
          ),
        ),
        previousCertUntil: settings.previousCertUntil?.toISOString() ?? null,
      };
    } else {
      const raw = (options['oidc'] ?? {}) as Record<string, unknown>;
      oidc = {
        clientId: String(raw['clientId']),
        scope: typeof raw['scope'] === 'string' ? raw['scope'] : 'openid email profile',
        hasClientSecret: typeof raw['clientSecret'] === 'string',
      };
    }
    return {
      id: stored.id,
      tenantId: stored.tenantId,
      protocol: connection.protocol,
      displayName: typeof options['displayName'] === 'string' ? options['displayName'] : null,
      issuer: connection.issuer,
      version: stored.version,
      updatedAt: stored.updatedAt.toISOString(),
      preset: connection.preset,
      mapping: { ...(stored.definition.mapping ?? {}) },
      jit: {
        mode: connection.mode,
        linking: connection.linking,
        emailAuthoritative: connection.emailAuthoritative,
        defaultRoles: connection.defaultRoles,
        roleRules: connection.roleRules,
        strictRoles: connection.strictRoles,
        syncRoles: connection.syncRoles,
        groupsCaseInsensitive: connection.groupsCaseInsensitive,
      },
      verifiedDomains: domains,
      serviceProvider: serviceProvider(stored.id, connection.protocol),
      saml,
      oidc,
    };
  }

  function domainView(d: StoredDomain): DomainView {
    return {
      domain: d.domain,
      status: d.status,
      claimedAt: d.createdAt.toISOString(),
      verifiedAt: d.verifiedAt?.toISOString() ?? null,
      dns: challengeRecord(d.domain, d.challenge),
    };
  }

  /** A definition as the change log shows it: secrets hidden. */
  const visible = (definition: ConnectionInput | undefined) =>
    definition ? JSON.parse(JSON.stringify(definition)) : undefined;

  /** One configuration change of the caller's tenant, recorded with the caller as actor. */
  function change<T>(
    caller: AdminCaller,
    action: ConfigurationAction,
    target: string,
    work: (
      tx: ConfigurationTransaction,
      version: number,
      at: Date,
    ) => Promise<{ result: T; changes: readonly Change[] }>,
  ): Promise<T> {
    return changeConfiguration(
      store,
      { tenantId: caller.tenantId, actor: caller.actor, action, target, at: now() },
      work,
      options.onChange,
    ).then((done) => done.result);
  }

  /** Creates the tenant's record with its first connection or domain. */
  async function ensureTenant(tx: ConfigurationTransaction, caller: AdminCaller, version: number, at: Date) {
    if (await tx.getTenant(caller.tenantId)) return;
    await tx.putTenant({
      id: caller.tenantId,
      displayName: null,
      seatLimit: null,
      requireProvisionedUsers: false,
      version,
      createdAt: at,
      updatedAt: at,
    });
  }

  async function insertConnection(caller: AdminCaller, definition: ConnectionInput): Promise<ConnectionView> {
    validate(definition);
    const stored = await change(caller, 'connection.created', definition.id, async (tx, version, at) => {
      if (await tx.getConnection(definition.id)) {
        throw new AdminError('CONNECTION_EXISTS', `A connection with id "${definition.id}" already exists.`, {
          hint: 'Choose another id, for instance prefixed with your organisation.',
          details: { connection: definition.id },
        });
      }
      await ensureTenant(tx, caller, version, at);
      const record: StoredConnection = {
        id: definition.id,
        tenantId: caller.tenantId,
        definition,
        version,
        createdAt: at,
        updatedAt: at,
      };
      await tx.putConnection(record);
      return { result: record, changes: diffConfiguration(undefined, visible(definition)) };
    });
    return view(stored);
  }

  /** Reads SAML metadata from a URL or uploaded XML, verifying its signature when a certificate is given. */
  async function readMetadata(input: {
    metadataUrl?: string | undefined;
    metadataXml?: string | undefined;
    metadataCert?: string | undefined;
    entityId?: string | undefined;
  }) {
    if (!input.metadataUrl === !input.metadataXml) {
      throw new AdminError('INVALID_INPUT', 'Give the metadata URL or the metadata XML, one of the two.');
    }
    const xml =
      input.metadataXml ??
      (await fetchDocument(input.metadataUrl!, documents, 'METADATA_UNREACHABLE', 'metadata'));
    let signature: SamlImportReport['signature'];
    let readable = xml;
    if (input.metadataCert) {
      let pem: string;
      try {
        pem = readCertificate(input.metadataCert).pem;
      } catch (error) {
        throw new AdminError(
          'CERTIFICATE_INVALID',
          'The metadata signing certificate is not an X.509 certificate.',
          {
            cause: error,
          },
        );
      }
      readable = verifySamlMetadataSignature(xml, pem);
      signature = 'verified';
    } else {
      signature = isSamlMetadataSigned(xml) ? 'not-checked' : 'unsigned';
    }
    const metadata = parseSamlMetadata(readable, input.entityId ? { entityId: input.entityId } : {});
    return { metadata, signature };
  }

  /** The certificates still usable (not expired); none left is `CERTIFICATE_EXPIRED`. */
  function usableCertificates(certs: readonly SigningCertificate[]): {
    usable: SigningCertificate[];
    reports: CertificateReport[];
    warnings: string[];
  } {
    const reports = certs.map((c) => certificateReport(c, 'current', null));
    const usable = certs.filter((_, i) => reports[i]!.status !== 'expired');
    if (usable.length === 0) {
      throw new AdminError('CERTIFICATE_EXPIRED', 'Every signing certificate in the metadata has expired.', {
        details: { certificates: reports.map((r) => ({ subject: r.subject, validTo: r.validTo })) },
      });
    }
    const warnings = reports.flatMap((r) =>
      r.status === 'expiring'
        ? [
            `The signing certificate "${r.subject}" expires on ${r.validTo.slice(0, 10)} (${r.daysLeft} days).`,
          ]
        : r.status === 'expired'
          ? [`The signing certificate "${r.subject}" expired on ${r.validTo.slice(0, 10)} and was left out.`]
          : [],
    );
    return { usable, reports: reports.filter((r) => r.status !== 'expired'), warnings };
  }

  async function withChangedDefinition(
    caller: AdminCaller,
    id: string,
    expectedVersion: number | undefined,
    action: ConfigurationAction,
    edit: (definition: ConnectionInput) => ConnectionInput,
  ): Promise<ConnectionView> {
    const stored = await change(caller, action, id, async (tx, version, at) => {
      const current = await ownConnection(tx, caller, id);
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw new AdminError(
          'VERSION_CONFLICT',
          `Connection "${id}" changed since version ${expectedVersion}.`,
          {
            details: { expectedVersion, version: current.version },
          },
        );
      }
      const definition = edit(current.definition);
      const domains = (await tx.listDomains(caller.tenantId)).filter((d) => d.status === 'verified');
      validate(
        definition,
        domains.map((d) => d.domain),
      );
      const record: StoredConnection = { ...current, definition, version, updatedAt: at };
      await tx.putConnection(record);
      return { result: record, changes: diffConfiguration(visible(current.definition), visible(definition)) };
    });
    return view(stored);
  }

  return {
    /** The values to paste into the IdP for a connection id (before or after it exists). */
    serviceProviderValues(
      caller: AdminCaller,
      id: string,
      protocol: 'saml' | 'oidc',
    ): Promise<ServiceProviderValues> {
      return guarded(caller, async () => serviceProvider(parse(connectionId, id), protocol));
    },

    getTenant(caller: AdminCaller) {
      return guarded(caller, async (c) => {
        const tenant = await store.getTenant(c.tenantId);
        const connections = await store.listConnections(c.tenantId);
        const domains = await store.listDomains(c.tenantId);
        return {
          id: c.tenantId,
          displayName: tenant?.displayName ?? null,
          connections: connections.map((s) => ({
            id: s.id,
            protocol: s.definition.protocol,
            displayName:
              typeof s.definition.protocolOptions?.['displayName'] === 'string'
                ? (s.definition.protocolOptions['displayName'] as string)
                : null,
            version: s.version,
          })),
          domains: domains.map(domainView),
        };
      });
    },

    listConnections(caller: AdminCaller): Promise<ConnectionView[]> {
      return guarded(caller, async (c) => Promise.all((await store.listConnections(c.tenantId)).map(view)));
    },

    getConnection(caller: AdminCaller, id: string): Promise<ConnectionView> {
      return guarded(caller, async (c) => view(await ownConnection(store, c, id)));
    },

    /** A SAML connection from the IdP's metadata (URL or XML); its signing certificates are reported. */
    createSamlConnection(
      caller: AdminCaller,
      body: unknown,
    ): Promise<{ connection: ConnectionView; report: SamlImportReport }> {
      return guarded(caller, async (c) => {
        const input = parse(samlInput, body);
        const { metadata, signature } = await readMetadata(input);
        const { usable, reports, warnings } = usableCertificates(metadata.certificates);
        const sp = serviceProvider(input.id, 'saml');
        const definition: ConnectionInput = {
          id: input.id,
          tenantId: c.tenantId,
          protocol: 'saml',
          issuer: metadata.entityId,
          preset: input.preset ?? detectSamlPreset(metadata.entityId, metadata.ssoUrl),
          ...(input.mapping ? { mapping: input.mapping } : {}),
          jit: { ...input.jit },
          protocolOptions: {
            ...(input.displayName ? { displayName: input.displayName } : {}),
            ...(input.metadataUrl ? { metadataUrl: input.metadataUrl } : {}),
            saml: {
              entryPoint: metadata.ssoUrl,
              idpCert: usable.length === 1 ? usable[0]!.pem : usable.map((u) => u.pem),
              spEntityId: sp.entityId,
              acsUrl: sp.acsUrl,
              ...(input.allowIdpInitiated ? { allowIdpInitiated: true } : {}),
            },
          },
        };
        if (signature === 'not-checked') {
          warnings.push('The metadata is signed, but no certificate was given to verify its signature.');
        }
        const connection = await insertConnection(c, definition);
        return { connection, report: { signature, certificates: reports, warnings } };
      });
    },

    /** An OIDC connection from its issuer's discovery document. */
    createOidcConnection(caller: AdminCaller, body: unknown): Promise<{ connection: ConnectionView }> {
      return guarded(caller, async (c) => {
        const input = parse(oidcInput, body);
        const discoveryUrl = discoveryUrlOf(input.issuer);
        const raw = await fetchDocument(
          discoveryUrl,
          documents,
          'DISCOVERY_UNREACHABLE',
          'discovery document',
        );
        let document: unknown;
        try {
          document = JSON.parse(raw);
        } catch {
          throw new AdminError('DISCOVERY_INVALID', `The discovery document is not JSON (${discoveryUrl}).`);
        }
        const discovery = parseOidcDiscovery(document, discoveryUrl);
        const sp = serviceProvider(input.id, 'oidc');
        const definition: ConnectionInput = {
          id: input.id,
          tenantId: c.tenantId,
          protocol: 'oidc',
          issuer: discovery.issuer,
          preset: input.preset ?? detectOidcPreset(discovery.issuer),
          ...(input.mapping ? { mapping: input.mapping } : {}),
          jit: { ...input.jit },
          protocolOptions: {
            ...(input.displayName ? { displayName: input.displayName } : {}),
            oidc: {
              clientId: input.clientId,
              ...(input.clientSecret ? { clientSecret: input.clientSecret } : {}),
              redirectUri: sp.redirectUri,
              ...(input.scope ? { scope: input.scope } : {}),
              ...(discovery.issuer.startsWith('http:') && documents.allowPrivateNetworks
                ? { allowInsecureRequests: true }
                : {}),
            },
          },
        };
        return { connection: await insertConnection(c, definition) };
      });
    },

    /** Edits the JIT policy, mapping, group→role rules or display name. */
    updateConnection(caller: AdminCaller, id: string, body: unknown): Promise<ConnectionView> {
      return guarded(caller, async (c) => {
        const input = parse(updateInput, body);
        return withChangedDefinition(c, id, input.expectedVersion, 'connection.updated', (definition) => {
          const protocolOptions = { ...definition.protocolOptions };
          if (input.displayName === null) delete protocolOptions['displayName'];
          else if (input.displayName !== undefined) protocolOptions['displayName'] = input.displayName;
          return {
            ...definition,
            ...(input.preset ? { preset: input.preset } : {}),
            ...(input.mapping ? { mapping: input.mapping } : {}),
            jit: { ...definition.jit, ...input.jit },
            protocolOptions,
          };
        });
      });
    },

    /**
     * Certificate rollover: the new certificate becomes current, and the current one is still
     * accepted until `previousUntil` (default in 7 days); after it, only the new one.
     */
    rolloverCertificate(caller: AdminCaller, id: string, body: unknown): Promise<ConnectionView> {
      return guarded(caller, async (c) => {
        const input = parse(rolloverInput, body);
        let next: SigningCertificate;
        if (input.certificate) {
          try {
            next = readCertificate(input.certificate);
          } catch (error) {
            throw new AdminError(
              'CERTIFICATE_INVALID',
              'The new certificate is not a PEM or base64 X.509 certificate.',
              {
                cause: error,
              },
            );
          }
          usableCertificates([next]);
        } else {
          const { metadata } = await readMetadata(input);
          const { usable } = usableCertificates(metadata.certificates);
          next = usable[0]!;
        }
        const until = input.previousUntil
          ? new Date(input.previousUntil)
          : new Date(now().getTime() + 7 * DAY);
        if (until.getTime() <= now().getTime()) {
          throw new AdminError('INVALID_INPUT', 'previousUntil must be in the future.');
        }
        return withChangedDefinition(c, id, input.expectedVersion, 'connection.updated', (definition) => {
          if (definition.protocol !== 'saml') {
            throw new AdminError(
              'INVALID_INPUT',
              'Only SAML connections have signing certificates to roll over.',
            );
          }
          const saml = { ...((definition.protocolOptions?.['saml'] ?? {}) as Record<string, unknown>) };
          const current = (Array.isArray(saml['idpCert']) ? saml['idpCert'] : [saml['idpCert']]) as string[];
          const currentPem = readCertificate(current[0]!);
          if (currentPem.fingerprint256 === next.fingerprint256) {
            throw new AdminError('INVALID_INPUT', 'This certificate is already the current one.');
          }
          saml['idpCert'] = [next.pem, currentPem.pem];
          saml['previousCertUntil'] = until.toISOString();
          return { ...definition, protocolOptions: { ...definition.protocolOptions, saml } };
        });
      });
    },

    deleteConnection(caller: AdminCaller, id: string, body?: unknown): Promise<{ deleted: string }> {
      return guarded(caller, async (c) => {
        const input = parse(deleteInput, body);
        return change(c, 'connection.deleted', id, async (tx) => {
          const current = await ownConnection(tx, c, id);
          if (input.expectedVersion !== undefined && current.version !== input.expectedVersion) {
            throw new AdminError(
              'VERSION_CONFLICT',
              `Connection "${id}" changed since version ${input.expectedVersion}.`,
            );
          }
          await tx.deleteConnection(id);
          return {
            result: { deleted: id },
            changes: diffConfiguration(visible(current.definition), undefined),
          };
        });
      });
    },

    /** The SP metadata XML of a SAML connection, to upload to the IdP. */
    serviceProviderMetadata(caller: AdminCaller, id: string): Promise<string> {
      return guarded(caller, async (c) => {
        const stored = await ownConnection(store, c, id);
        const connection = validate(stored.definition);
        if (connection.protocol !== 'saml') throw notFound('SAML connection', id);
        const settings = readSamlSettings(connection);
        return new SAML(
          samlOptionsFor(connection, new MemoryReplayCache(), settings),
        ).generateServiceProviderMetadata(null, settings.publicCert);
      });
    },

    listDomains(caller: AdminCaller): Promise<DomainView[]> {
      return guarded(caller, async (c) => (await store.listDomains(c.tenantId)).map(domainView));
    },

    /** Claims a domain: answers the TXT record to publish. A domain held by any tenant is refused. */
    claimDomain(caller: AdminCaller, body: unknown): Promise<DomainView> {
      return guarded(caller, async (c) => {
        const domain = normaliseClaimedDomain((body as { domain?: unknown } | null)?.domain);
        const taken = () =>
          new AdminError('DOMAIN_TAKEN', `The domain "${domain}" is claimed by another organisation.`, {
            details: { domain },
          });
        try {
          const claimed = await change(c, 'domain.claimed', domain, async (tx, version, at) => {
            const existing = await tx.getDomain(domain);
            if (existing?.tenantId === c.tenantId) {
              throw new AdminError(
                'DOMAIN_ALREADY_CLAIMED',
                `This organisation has already claimed "${domain}".`,
                {
                  details: { domain, status: existing.status },
                },
              );
            }
            if (existing) throw taken();
            await ensureTenant(tx, c, version, at);
            const record: StoredDomain = {
              domain,
              tenantId: c.tenantId,
              status: 'pending',
              challenge: newChallenge(),
              version,
              createdAt: at,
              verifiedAt: null,
            };
            await tx.insertDomain(record);
            return { result: record, changes: [{ field: 'domain', from: null, to: domain }] };
          });
          return domainView(claimed);
        } catch (error) {
          // Two tenants claiming at once: the primary key decided.
          if (error instanceof StoreConflictError) throw taken();
          throw error;
        }
      });
    },

    /** Looks up the TXT record; when it carries the challenge, the domain is verified. */
    verifyDomain(caller: AdminCaller, domainInput: string): Promise<DomainView> {
      return guarded(caller, async (c) => {
        const domain = normaliseClaimedDomain(domainInput);
        const claim = await ownDomain(store, c, domain);
        if (claim.status === 'verified') return domainView(claim);
        const { found, seen } = await challengePublished(dns, domain, claim.challenge);
        if (!found) {
          const record = challengeRecord(domain, claim.challenge);
          throw new AdminError(
            'DOMAIN_NOT_VERIFIED',
            `No TXT record at ${record.name} carries the challenge.`,
            {
              details: { domain, record, seen: seen.length },
            },
          );
        }
        const verified = await change(c, 'domain.verified', domain, async (tx, version, at) => {
          const current = await ownDomain(tx, c, domain);
          if (current.challenge !== claim.challenge) {
            throw new AdminError(
              'VERSION_CONFLICT',
              `The claim of "${domain}" changed meanwhile; verify again.`,
            );
          }
          const record: StoredDomain = { ...current, status: 'verified', version, verifiedAt: at };
          await tx.updateDomain(record);
          return { result: record, changes: [{ field: 'status', from: current.status, to: 'verified' }] };
        });
        return domainView(verified);
      });
    },

    /** Gives a domain up; logins stop trusting it at once. */
    releaseDomain(caller: AdminCaller, domainInput: string): Promise<{ released: string }> {
      return guarded(caller, async (c) => {
        const domain = normaliseClaimedDomain(domainInput);
        return change(c, 'domain.released', domain, async (tx) => {
          const current = await ownDomain(tx, c, domain);
          await tx.deleteDomain(domain);
          return {
            result: { released: domain },
            changes: [{ field: 'domain', from: current.domain, to: null }],
          };
        });
      });
    },

    /**
     * What the connection's latest sign-in would map to under a draft of the mapping and role
     * rules (or the saved ones): fields, groups, roles, or the refusal the draft would give.
     */
    previewMapping(caller: AdminCaller, id: string, body?: unknown): Promise<MappingPreview> {
      return guarded(caller, async (c) => {
        const draft = parse(draftInput, body);
        const stored = await ownConnection(store, c, id);
        const definition: ConnectionInput = {
          ...stored.definition,
          ...(draft.preset ? { preset: draft.preset } : {}),
          ...(draft.mapping ? { mapping: draft.mapping } : {}),
          jit: { ...stored.definition.jit, ...draft.jit },
        };
        const connection = defineStoredConnection({
          ...definition,
          jit: { ...definition.jit, verifiedDomains: [] },
        });
        const sample = await options.tracer?.lastProfile(id);
        if (!sample) {
          throw new AdminError('NO_SAMPLE_LOGIN', `No recent sign-in through "${id}" to preview with.`);
        }
        const base = { sample: { at: sample.at.toISOString(), subject: sample.profile.subject } };
        try {
          const mapped = mapProfile(sample.profile, connection.mapping);
          const fromRules = rolesForGroups(connection, mapped.groups);
          const strictRefusal = !fromRules && connection.strictRoles;
          const shown = redactAttributes({
            ...sample.profile,
            attributes: { email: mapped.email, ...mapped.attributes },
          });
          return {
            ...base,
            outcome: strictRefusal ? 'NO_ROLE_GRANTED' : 'ok',
            message: strictRefusal ? 'No rule grants this person a role, and roles are strict.' : null,
            email: shown['email']?.[0] ?? null,
            groups: [...mapped.groups],
            attributes: Object.fromEntries(Object.entries(shown).filter(([k]) => k !== 'email')),
            roles: strictRefusal ? null : (fromRules ?? [...connection.defaultRoles].sort()),
          };
        } catch (error) {
          if (!isJitError(error)) throw error;
          return {
            ...base,
            outcome: error.code,
            message: error.message,
            email: null,
            groups: [],
            attributes: {},
            roles: null,
          };
        }
      });
    },

    /** Recent sign-in attempts through a connection, newest first, attribute values redacted. */
    recentAttempts(caller: AdminCaller, id: string, limit = 50): Promise<TracedAttempt[]> {
      return guarded(caller, async (c) => {
        await ownConnection(store, c, id);
        return options.tracer ? options.tracer.list(id, Math.min(Math.max(1, limit), 200)) : [];
      });
    },

    /** The tenant's SCIM bearer tokens (every directory of the tenant), active and revoked, without secrets. */
    listScimTokens(caller: AdminCaller): Promise<ScimTokenView[]> {
      return guarded(caller, async (c) => {
        const directory = scimDirectoryStore();
        const tokens: ScimTokenView[] = [];
        for (const d of await directory.listDirectories(c.tenantId)) {
          for (const t of await directory.listTokens(d.id)) tokens.push(scimTokenView(t));
        }
        return tokens.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
      });
    },

    /**
     * Issues a SCIM bearer token for the tenant's directory (created with the first token): 256
     * random bits, answered once; only its SHA-256 is stored. Recorded with its actor.
     */
    issueScimToken(caller: AdminCaller, body?: unknown): Promise<{ token: string; record: ScimTokenView }> {
      return guarded(caller, async (c) => {
        const input = parse(scimTokenInput, body);
        const directory = scimDirectoryStore();
        const directories = await directory.listDirectories(c.tenantId);
        let target = input.directoryId ? directories.find((d) => d.id === input.directoryId) : directories[0];
        if (input.directoryId && !target) {
          const other = await directory.findDirectory(input.directoryId);
          throw other ? foreign('directory', input.directoryId) : notFound('directory', input.directoryId);
        }
        if (!input.directoryId && directories.length > 1) {
          throw new AdminError('INVALID_INPUT', 'This organisation has several SCIM directories: name one.', {
            details: { directories: directories.map((d) => d.id) },
          });
        }
        target ??= await createDirectory(directory, { tenantId: c.tenantId });
        const { token, record } = await issueDirectoryToken(directory, target.id, {
          label: input.label ?? '',
        });
        try {
          await change(c, 'scim-token.issued', record.id, async () => ({
            result: null,
            changes: [{ field: 'scimToken', from: null, to: record.id }],
          }));
        } catch (error) {
          // Not recorded, not in force: a token nobody has seen is revoked at once.
          await revokeScimTokenRecord(directory, c.tenantId, record.id).catch(() => undefined);
          throw error;
        }
        return { token, record: scimTokenView(record) };
      });
    },

    /** Revokes one of the tenant's SCIM tokens; another tenant's token is `NOT_FOUND`. */
    revokeScimToken(caller: AdminCaller, id: string): Promise<ScimTokenView> {
      return guarded(caller, async (c) => {
        const directory = scimDirectoryStore();
        let found: DirectoryTokenRecord | undefined;
        for (const d of await directory.listDirectories(c.tenantId)) {
          found = (await directory.listTokens(d.id)).find((t) => t.id === id);
          if (found) break;
        }
        // Another tenant's token is answered as one that does not exist.
        if (!found) throw notFound('SCIM token', id);
        if (found.revokedAt) return scimTokenView(found);
        const at = now();
        // Revoked first (the safe side when the record of the change fails), then recorded: the
        // directory and the configuration may share one SQLite connection, so never one inside the other.
        await revokeScimTokenRecord(directory, c.tenantId, id, at);
        return change(c, 'scim-token.revoked', id, async () => ({
          result: scimTokenView({ ...found, revokedAt: at }),
          changes: [{ field: 'scimToken', from: id, to: null }],
        }));
      });
    },

    /** The tenant's webhook endpoints, without their secrets. */
    listWebhookEndpoints(caller: AdminCaller): Promise<EndpointView[]> {
      return guarded(caller, async (c) => listWebhookEndpoints(endpointContext(c), c.tenantId));
    },

    /** Registers an endpoint for the tenant's events; its signing secret is returned this once. */
    registerWebhookEndpoint(caller: AdminCaller, body: unknown): Promise<WebhookSecretView> {
      return guarded(caller, async (c) => {
        const input = parse(webhookInput, body);
        return registerWebhookEndpoint(endpointContext(c), {
          tenantId: c.tenantId,
          url: input.url,
          eventTypes: (input.eventTypes ?? null) as string[] | null,
        });
      });
    },

    /**
     * Gives an endpoint a new secret, returned this once; the previous one still signs deliveries
     * for `overlapHours` (default 24), so the receiver can switch at its own pace.
     */
    rotateWebhookSecret(caller: AdminCaller, id: string, body: unknown): Promise<WebhookSecretView> {
      return guarded(caller, async (c) => {
        const input = parse(rotateInput, body);
        const ctx = endpointContext(c);
        await ownEndpoint(ctx, c, id);
        return rotateWebhookSecret(ctx, id, {
          ...(input.overlapHours !== undefined ? { overlapMs: input.overlapHours * 3_600_000 } : {}),
        });
      });
    },

    /** Pauses an endpoint: its deliveries wait (none is lost) until it resumes. */
    pauseWebhookEndpoint(caller: AdminCaller, id: string): Promise<EndpointView> {
      return guarded(caller, async (c) => {
        const ctx = endpointContext(c);
        await ownEndpoint(ctx, c, id);
        return pauseWebhookEndpoint(ctx, id, true);
      });
    },

    resumeWebhookEndpoint(caller: AdminCaller, id: string): Promise<EndpointView> {
      return guarded(caller, async (c) => {
        const ctx = endpointContext(c);
        await ownEndpoint(ctx, c, id);
        return pauseWebhookEndpoint(ctx, id, false);
      });
    },

    /** Deliveries that failed (dead, or pending after a failed attempt), of one endpoint or all. */
    listWebhookFailures(
      caller: AdminCaller,
      query: { endpointId?: string; limit?: number } = {},
    ): Promise<DeliveryRecord[]> {
      return guarded(caller, async (c) => {
        const ctx = endpointContext(c);
        if (query.endpointId !== undefined) await ownEndpoint(ctx, c, query.endpointId);
        return listDeliveryFailures(ctx, {
          tenantId: c.tenantId,
          ...(query.endpointId !== undefined ? { endpointId: query.endpointId } : {}),
          limit: Math.min(Math.max(1, query.limit ?? 100), 500),
        });
      });
    },

    /**
     * Sends one event to one endpoint again, from now: a dead delivery, a failing one at once, or a
     * delivered one once more. Resolves to the delivery as it now stands.
     */
    redeliverWebhook(caller: AdminCaller, endpointId: string, eventId: string): Promise<DeliveryRecord> {
      return guarded(caller, async (c) => {
        const ctx = endpointContext(c);
        await ownEndpoint(ctx, c, endpointId);
        const find = async () =>
          (await ctx.store.listDeliveries({ endpointId, eventId, tenantId: c.tenantId, limit: 1 }))[0];
        const delivery = await find();
        if (!delivery) throw notFound('delivery', eventId);
        if (delivery.status !== 'sending') {
          await redeliverWebhooks(ctx, {
            endpointId,
            eventId,
            tenantId: c.tenantId,
            status: delivery.status,
          });
        }
        return (await find()) ?? delivery;
      });
    },

    /** The tenant's configuration changes, newest first, with their actors. */
    listChanges(caller: AdminCaller, limit = 50): Promise<ConfigurationEvent[]> {
      return guarded(caller, async (c) => {
        const events = await store.listConfigurationEvents({ tenantId: c.tenantId, limit: 10_000 });
        return events.slice(-Math.min(Math.max(1, limit), 500)).reverse();
      });
    },
  };
}
