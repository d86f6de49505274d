import { auditEvent } from './audit.js';
import type { Connection, ConnectionInput, TenantInput } from './connection.js';
import {
  checkedResolver,
  checkIssuer,
  decide,
  type DecisionSettings,
  type ProvisioningResult,
  type Resolver,
} from './decision.js';
import { ConfigurationError, JitError, StoreError } from './errors.js';
import {
  admitUser,
  deactivateDormant,
  setStatus,
  type DormantCleanupOptions,
  type LifecycleSettings,
  type DormantCleanupReport,
  type SeatAdmission,
} from './lifecycle.js';
import { mapProfile } from './mapping.js';
import type { AuditActor, AuditEvent, UserRecord } from './model.js';
import type { SsoProfile } from './profile.js';
import type { ConfigurationStore } from './configuration.js';
import { createRegistry, type StoredConfigurationOptions } from './registry.js';
import { singleUsePruner, useOnce } from './single-use.js';
import type { IdentityStore, StoreTransaction } from './store.js';
import { transactionRunner } from './transaction.js';

export interface ProvisionRequest {
  readonly connectionId: string;
  /** The tenant being signed into (from the URL); the connection must belong to it. */
  readonly tenantId?: string;
  readonly profile: SsoProfile;
  /**
   * The message that carried the login, when it may be used only once (a SAML assertion): recorded
   * in the store in the login's transaction, unique per connection, until `expiresAt`. A second
   * login with the same `key` before then is refused with `SAML_REPLAY`, whatever any cache in
   * front of the store remembers.
   */
  readonly singleUse?: { readonly key: string; readonly expiresAt: Date };
  /**
   * The connection as the login resolved it when it started (the protocol checks used it): the
   * decision uses this snapshot, so a login finishes with the configuration it started with even
   * when the connection changes meanwhile. Its id must be `connectionId`.
   */
  readonly connection?: Connection;
  /**
   * A test sign-in: the decision is made as for a real login and returned, but nothing is written
   * (no account, no link, no audit event, no single-use record) and `onEvent` is not told. Refusals
   * are audited as usual.
   */
  readonly dryRun?: boolean;
}

/** Carries a test sign-in's outcome out of the transaction it rolls back. */
class DryRun extends Error {
  constructor(readonly outcome: ProvisioningResult) {
    super('dry run');
  }
}

/**
 * Sent after each decision has been committed (or, for a denial, after it was audited). `denied`
 * covers the protocol's refusals too (signature, replay, issuer), recorded through `recordDenial`.
 */
export type ProvisioningEvent =
  | { type: 'provisioned'; result: ProvisioningResult; audit: AuditEvent }
  | { type: 'denied'; error: JitError; audit: AuditEvent | null }
  | { type: 'lifecycle'; user: UserRecord; audit: AuditEvent };

export interface ProvisionerOptions {
  store: IdentityStore;
  /** The connections, or a loader for apps that keep them in a database (validated on first use, cached). */
  connections?: readonly ConnectionInput[] | ((id: string) => Promise<ConnectionInput | null>);
  /**
   * Tenants, connections and verified domains kept in a configuration store and changed at run time
   * (by the admin service): used for every connection id that `connections` does not name, and
   * re-read on every copy of the app when the configuration version moves.
   */
  configuration?: ConfigurationStore | StoredConfigurationOptions;
  tenants?: readonly TenantInput[];
  resolve?: Resolver;
  /**
   * Called in this process after each decision, once: an event is lost if the process dies after
   * the commit or the listener throws. For at least once, across restarts and processes, subscribe
   * to the outbox instead: `createDeliveryWorker({ store, subscribers: { name: fn } })`.
   */
  onEvent?: (event: ProvisioningEvent) => void | Promise<void>;
  /**
   * Told of every sign-in attempt the engine decides or records (successes, denials, protocol
   * refusals) with the profile received, for a sign-in tracer; its errors are passed to
   * `onEventError` and never change the outcome. The profile is personal data: redact before keeping.
   */
  onSignInAttempt?: (attempt: SignInAttempt) => void | Promise<void>;
  /** Where errors thrown by `onEvent` go (they never undo a committed login). Default: console.error. */
  onEventError?: (error: unknown) => void;
  /** Attempts of one login when concurrent first logins collide on a unique key (default 5). */
  maxAttempts?: number;
  now?: () => Date;
}

export interface Provisioner {
  provision(request: ProvisionRequest): Promise<ProvisioningResult>;
  /** The user when they exist and are active, else `null`: what a session checks on each request. */
  getActiveUser(userId: string): Promise<UserRecord | null>;
  deactivateUser(userId: string, options?: { actor?: AuditActor; reason?: string }): Promise<UserRecord>;
  reactivateUser(userId: string, options?: { actor?: AuditActor; reason?: string }): Promise<UserRecord>;
  deactivateDormant(options: DormantCleanupOptions): Promise<DormantCleanupReport>;
  getConnection(id: string): Promise<Connection>;
  /**
   * The connections given as a list, so that adapters can check their protocol settings when they
   * are built; none when connections come from a loader (those are checked as they load).
   */
  listConnections?(): readonly Connection[];
  /**
   * Records a refusal decided before `provision` (a protocol check: signature, replay, issuer, a
   * failed OIDC callback) as `provision` records its own: audited, then sent to `onEvent` as a
   * `denied` event. Returns the audit event, or `null` when the store could not take it.
   */
  recordDenial(denial: ProtocolDenial): Promise<AuditEvent | null>;
  /** Reads the configuration version now (stored configuration), so a change made here applies at once. */
  refreshConfiguration?(): Promise<void>;
  /** Stops watching the configuration store. */
  close?(): void;
  readonly store: IdentityStore;
}

/** One sign-in attempt as the engine saw it. */
export interface SignInAttempt {
  readonly at: Date;
  readonly connectionId: string;
  /** The connection's tenant; `null` for an unknown connection. */
  readonly tenantId: string | null;
  readonly subject: string | null;
  /** `created`, `linked`, `updated`, `unchanged`, or the refusal's error code. */
  readonly outcome: string;
  readonly ok: boolean;
  /** The refusal's hint for the administrator; `null` on success. */
  readonly hint: string | null;
  readonly userId: string | null;
  /** The user's roles after a successful login. */
  readonly roles: readonly string[] | null;
  /** The profile received, when the attempt got as far as reading one. */
  readonly profile: SsoProfile | null;
  /** A test sign-in (`dryRun`): decided, nothing written. */
  readonly test: boolean;
}

/** A refusal decided outside the engine, at the connection `connectionId`. */
export interface ProtocolDenial {
  readonly connectionId: string;
  readonly error: JitError;
  /** The subject the message named, when it could be read. */
  readonly subject?: string | null;
}

/**
 * Builds the engine from its parts: the registry of connections and tenants, the decision, the
 * lifecycle, and the transaction runner they share. Connections and tenants are validated here, so
 * mistakes fail at start-up.
 */
export function createProvisioner(options: ProvisionerOptions): Provisioner & SeatAdmission {
  if (!options || typeof options.store?.transaction !== 'function') {
    throw new ConfigurationError('createProvisioner needs a store that implements IdentityStore.');
  }
  const { store } = options;
  const now = options.now ?? (() => new Date());
  const configuration = options.configuration
    ? 'store' in options.configuration
      ? options.configuration
      : { store: options.configuration }
    : undefined;
  if (!options.connections && !configuration) {
    throw new ConfigurationError('createProvisioner needs connections, a configuration store, or both.');
  }
  const registry = createRegistry(options.connections ?? [], options.tenants ?? [], configuration);
  // Errors thrown by the app's resolver: its own bugs, passed on rather than reported as store failures.
  const resolverErrors = new WeakSet<object>();
  const inTransaction = transactionRunner(
    store,
    options.maxAttempts ?? 5,
    (error) => resolverErrors.has(error) || error instanceof DryRun,
  );
  const decision: DecisionSettings = {
    now,
    tenantOf: registry.tenantOf,
    resolve: checkedResolver(options.resolve, resolverErrors),
  };
  const emit = options.onEvent ? eventEmitter(options.onEvent, options.onEventError) : null;
  const lifecycle: LifecycleSettings = {
    store,
    now,
    tenantOf: registry.tenantOf,
    inTransaction,
    announce: emit && ((user, audit) => emit({ type: 'lifecycle', user, audit })),
  };
  const pruneSingleUses = singleUsePruner(store, now);

  async function provision(request: ProvisionRequest): Promise<ProvisioningResult> {
    let connection: Connection | null = null;
    try {
      connection =
        request.connection?.id === request.connectionId
          ? request.connection
          : (registry.cached(request.connectionId) ?? (await registry.getConnection(request.connectionId)));
      checkIssuer(connection, request);
      const mapped = mapProfile(request.profile, connection.mapping);
      const chosen = connection;
      let written: AuditEvent | null = null;
      const result = await inTransaction(async (tx) => {
        if (request.singleUse) await useOnce(tx, chosen, request.singleUse, now());
        const outcome = await decide(decision, { tx, connection: chosen, profile: request.profile, mapped });
        written = auditEvent({
          at: now(),
          tenantId: chosen.tenantId,
          actor: 'jit',
          action: outcome.action,
          connectionId: chosen.id,
          subject: request.profile.subject,
          userId: outcome.user.id,
          changes: outcome.changes,
        });
        // A test sign-in: the decision is made, then everything it wrote is rolled back.
        if (request.dryRun) throw new DryRun(outcome);
        await tx.appendAudit(written);
        return outcome;
      }).catch((error: unknown) => {
        if (error instanceof DryRun) return error.outcome;
        throw error;
      });
      if (emit && !request.dryRun) await emit({ type: 'provisioned', result, audit: written! });
      await trace({
        at: now(),
        connectionId: chosen.id,
        tenantId: chosen.tenantId,
        subject: request.profile.subject,
        outcome: result.action,
        ok: true,
        hint: null,
        userId: result.user.id,
        roles: result.roles,
        profile: request.profile,
        test: request.dryRun === true,
      });
      if (request.singleUse) await pruneSingleUses();
      return result;
    } catch (error) {
      if (!(error instanceof JitError)) throw error;
      const subject = request.profile?.subject;
      await deny(error, denialEvent(error, connection, { ...request, subject }, now()));
      await trace({
        ...attemptOf(error, connection, request.connectionId, subject, request.profile ?? null, now()),
        test: request.dryRun === true,
      });
      throw error;
    }
  }

  async function deny(error: JitError, event: AuditEvent): Promise<AuditEvent | null> {
    const recorded = await recordDenial(store, event);
    if (emit) await emit({ type: 'denied', error, audit: recorded });
    return recorded;
  }

  async function recordProtocolDenial(denial: ProtocolDenial): Promise<AuditEvent | null> {
    let connection: Connection | null = null;
    try {
      connection =
        registry.cached(denial.connectionId) ?? (await registry.getConnection(denial.connectionId));
    } catch {
      // An unknown connection is audited under the "unknown" tenant.
    }
    const recorded = await deny(denial.error, denialEvent(denial.error, connection, denial, now()));
    await trace(
      attemptOf(denial.error, connection, denial.connectionId, denial.subject ?? null, null, now()),
    );
    return recorded;
  }

  async function trace(attempt: SignInAttempt): Promise<void> {
    if (!options.onSignInAttempt) return;
    try {
      await options.onSignInAttempt(attempt);
    } catch (error) {
      (options.onEventError ?? ((e) => console.error('jit: onSignInAttempt listener failed', e)))(error);
    }
  }

  return Object.freeze({
    store,
    provision,
    getConnection: registry.getConnection,
    listConnections: () => registry.listed,
    recordDenial: recordProtocolDenial,
    refreshConfiguration: registry.refresh,
    close: registry.close,
    admitUser: (tx: StoreTransaction, tenantId: string) => admitUser(lifecycle, tx, tenantId),
    async getActiveUser(userId: string) {
      try {
        const user = await store.findUserById(userId);
        return user && user.status === 'active' ? user : null;
      } catch (error) {
        if (error instanceof JitError) throw error;
        throw new StoreError('The account store failed while checking a session.', error);
      }
    },
    deactivateUser: (userId: string, o: { actor?: AuditActor; reason?: string } = {}) =>
      setStatus(lifecycle, userId, 'deactivated', o.actor ?? 'admin', o.reason ?? null),
    reactivateUser: (userId: string, o: { actor?: AuditActor; reason?: string } = {}) =>
      setStatus(lifecycle, userId, 'active', o.actor ?? 'admin', o.reason ?? null),
    deactivateDormant: (cleanup: DormantCleanupOptions) => deactivateDormant(lifecycle, cleanup),
  });
}

/** Calls the app's listener; its errors never undo what was committed. */
function eventEmitter(
  onEvent: NonNullable<ProvisionerOptions['onEvent']>,
  onEventError: ProvisionerOptions['onEventError'],
): (event: ProvisioningEvent) => Promise<void> {
  return async (event) => {
    try {
      await onEvent(event);
    } catch (error) {
      (onEventError ?? ((e) => console.error('jit: onEvent listener failed', e)))(error);
    }
  };
}

function attemptOf(
  error: JitError,
  connection: Connection | null,
  connectionId: string,
  subject: unknown,
  profile: SsoProfile | null,
  at: Date,
): SignInAttempt {
  return {
    at,
    connectionId: connection?.id ?? connectionId,
    tenantId: connection?.tenantId ?? null,
    subject: typeof subject === 'string' ? subject : null,
    outcome: error.code,
    ok: false,
    hint: error.hint,
    userId: typeof error.details['userId'] === 'string' ? error.details['userId'] : null,
    roles: null,
    profile: profile && typeof profile === 'object' ? profile : null,
    test: false,
  };
}

function denialEvent(
  error: JitError,
  connection: Connection | null,
  request: { connectionId: string; tenantId?: string; subject?: unknown },
  at: Date,
): AuditEvent {
  return auditEvent({
    at,
    tenantId: connection?.tenantId ?? request.tenantId ?? 'unknown',
    actor: 'jit',
    action: 'denied',
    connectionId: connection?.id ?? request.connectionId,
    subject: typeof request.subject === 'string' ? request.subject : null,
    userId: typeof error.details['userId'] === 'string' ? error.details['userId'] : null,
    reason: error.code,
  });
}

/** Writes a denial in its own transaction; `null` when the store is down (the denial stands regardless). */
async function recordDenial(store: IdentityStore, event: AuditEvent): Promise<AuditEvent | null> {
  try {
    await store.transaction((tx) => tx.appendAudit(event));
    return event;
  } catch {
    return null;
  }
}
