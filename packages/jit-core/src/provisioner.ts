import { createHash, randomUUID } from 'node:crypto';
import {
  defineConnection,
  defineTenant,
  rolesForGroups,
  type Connection,
  type ConnectionInput,
  type Tenant,
  type TenantInput,
} from './connection.js';
import { emailDomain, isDomainVerified } from './email.js';
import {
  AccountConflictError,
  ConfigurationError,
  DomainNotAllowedError,
  EmailNotVerifiedError,
  IssuerMismatchError,
  JitDisabledError,
  JitError,
  NoRoleGrantedError,
  ResolverRejectedError,
  SeatLimitReachedError,
  StoreConflictError,
  StoreError,
  TenantMismatchError,
  UnknownConnectionError,
  UserDeactivatedError,
  UserNotFoundError,
  UserNotProvisionedError,
  type JitErrorCode,
} from './errors.js';
import { mapProfile, type MappedProfile } from './mapping.js';
import { uuidv7 } from './ids.js';
import { roleNames } from './model.js';
import type {
  AuditAction,
  AuditActor,
  AuditEvent,
  Change,
  IdentityRecord,
  RoleGrant,
  UserRecord,
} from './model.js';
import type { SsoProfile } from './profile.js';
import type { IdentityStore, StoreTransaction, UserPatch } from './store.js';

/** What a login ended in. A denial is a thrown `JitError`, never a result. */
export type ProvisioningResult =
  LoginOutcome<'created'> | LoginOutcome<'linked'> | LoginOutcome<'updated'> | LoginOutcome<'unchanged'>;

const SINGLE_USE_PRUNE_INTERVAL_MS = 5 * 60_000;

export interface LoginOutcome<A extends 'created' | 'linked' | 'updated' | 'unchanged'> {
  readonly action: A;
  readonly user: UserRecord;
  readonly identity: IdentityRecord;
  /** The user's roles after the login, from every source. */
  readonly roles: readonly string[];
  readonly changes: readonly Change[];
  readonly connectionId: string;
}

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
}

/** What the app's resolver decides before the default decision. */
export type ResolverDecision =
  | { action: 'continue' }
  | { action: 'link'; userId: string }
  | { action: 'reject'; reason: string; message?: string };

export interface ResolverContext {
  readonly connection: Connection;
  readonly profile: SsoProfile;
  readonly mapped: MappedProfile;
  /** The user this subject is already linked to, if any. */
  readonly linkedUser: UserRecord | null;
  /** Reads within the login's transaction. */
  readonly store: Pick<StoreTransaction, 'findUserById' | 'findUserByEmail' | 'listIdentitiesOfUser'>;
}

export type Resolver = (context: ResolverContext) => ResolverDecision | Promise<ResolverDecision>;

/** Sent after each decision has been committed (or, for a denial, after it was audited). */
export type ProvisioningEvent =
  | { type: 'provisioned'; result: ProvisioningResult; audit: AuditEvent }
  | { type: 'denied'; error: JitError; audit: AuditEvent | null }
  | { type: 'lifecycle'; user: UserRecord; audit: AuditEvent };

export interface ProvisionerOptions {
  store: IdentityStore;
  /** The connections, or a loader for apps that keep them in a database (validated on first use, cached). */
  connections: readonly ConnectionInput[] | ((id: string) => Promise<ConnectionInput | null>);
  tenants?: readonly TenantInput[];
  resolve?: Resolver;
  onEvent?: (event: ProvisioningEvent) => void | Promise<void>;
  /** Where errors thrown by `onEvent` go (they never undo a committed login). Default: console.error. */
  onEventError?: (error: unknown) => void;
  /** Attempts of one login when concurrent first logins collide on a unique key (default 5). */
  maxAttempts?: number;
  now?: () => Date;
}

export interface DormantCleanupOptions {
  tenantId: string;
  /** Users whose last login (or creation) is before this are dormant. */
  notSeenSince: Date;
  /** Default true: report without changing anything. */
  dryRun?: boolean;
  /** Users holding any of these roles are kept. */
  excludeRoles?: readonly string[];
  batchSize?: number;
  actor?: AuditActor;
  /** Called for each dormant user found (before it is deactivated). */
  onUser?: (user: UserRecord) => void;
}

export interface DormantCleanupReport {
  readonly dryRun: boolean;
  readonly deactivated: number;
  readonly kept: number;
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
  readonly store: IdentityStore;
}

/** The tenants' seat limits, for other writers of users (such as a SCIM directory). */
export interface SeatAdmission {
  /**
   * Admits one more active user to the tenant inside the caller's transaction (a creation or a
   * reactivation): throws `SeatLimitReachedError` when the tenant's seat limit is reached, else
   * holds the tenant's seat lock until `tx` ends.
   */
  admitUser(tx: StoreTransaction, tenantId: string): Promise<void>;
}

const CONTINUE: ResolverDecision = Object.freeze({ action: 'continue' });
const RESOLVER_ACTIONS = new Set<string>(['continue', 'link', 'reject']);

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

/** Builds the engine. Connections and tenants are validated here, so mistakes fail at start-up. */
export function createProvisioner(options: ProvisionerOptions): Provisioner & SeatAdmission {
  if (!options || typeof options.store?.transaction !== 'function') {
    throw new ConfigurationError('createProvisioner needs a store that implements IdentityStore.');
  }
  const { store } = options;
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? 5;
  const tenants = new Map<string, Tenant>();
  for (const input of options.tenants ?? []) {
    const tenant = defineTenant(input);
    if (tenants.has(tenant.id)) throw new ConfigurationError(`Tenant "${tenant.id}" is configured twice.`);
    tenants.set(tenant.id, tenant);
  }
  const connections = new Map<string, Connection>();
  const loader = typeof options.connections === 'function' ? options.connections : null;
  if (!loader) {
    for (const input of options.connections as readonly ConnectionInput[]) {
      const connection = defineConnection(input);
      if (connections.has(connection.id)) {
        throw new ConfigurationError(`Connection "${connection.id}" is configured twice.`);
      }
      if (tenants.size > 0 && !tenants.has(connection.tenantId)) {
        // With tenants configured, an unknown one is a typo that would silently lift its seat limit.
        throw new ConfigurationError(
          `Connection "${connection.id}" names tenant "${connection.tenantId}", which is not among the configured tenants.`,
        );
      }
      connections.set(connection.id, connection);
    }
  }
  const listed: readonly Connection[] = Object.freeze(loader ? [] : [...connections.values()]);
  const resolverErrors = new WeakSet<object>();

  const tenantOf = (id: string): Tenant =>
    tenants.get(id) ?? { id, seatLimit: null, requireProvisionedUsers: false };

  async function admitUser(tx: StoreTransaction, tenantId: string): Promise<void> {
    const tenant = tenantOf(tenantId);
    if (tenant.seatLimit !== null && !(await tx.acquireSeat(tenant.id, tenant.seatLimit))) {
      throw new SeatLimitReachedError(tenant.id, tenant.seatLimit);
    }
  }

  async function getConnection(id: string): Promise<Connection> {
    const known = connections.get(id);
    if (known) return known;
    if (loader) {
      const input = await loader(id);
      if (input) {
        const connection = defineConnection(input);
        if (connection.id !== id)
          throw new ConfigurationError(`Connection loader returned "${connection.id}" for "${id}".`);
        connections.set(id, connection);
        return connection;
      }
    }
    throw new UnknownConnectionError(id);
  }

  function audit(
    tenantId: string,
    actor: AuditActor,
    action: AuditAction,
    fields: Partial<Pick<AuditEvent, 'connectionId' | 'subject' | 'userId' | 'reason' | 'changes'>>,
  ): AuditEvent {
    const at = now();
    return Object.freeze({
      id: uuidv7(at),
      at,
      tenantId,
      actor,
      action,
      connectionId: fields.connectionId ?? null,
      subject: fields.subject ?? null,
      userId: fields.userId ?? null,
      reason: fields.reason ?? null,
      changes: Object.freeze([...(fields.changes ?? [])]),
    });
  }

  async function emit(event: ProvisioningEvent): Promise<void> {
    if (!options.onEvent) return;
    try {
      await options.onEvent(event);
    } catch (error) {
      (options.onEventError ?? ((e) => console.error('jit: onEvent listener failed', e)))(error);
    }
  }

  /** Runs one transaction, retrying when a concurrent login won a unique key; store failures become `StoreError`. */
  async function inTransaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.transaction(work);
      } catch (error) {
        if (error instanceof StoreConflictError && attempt < maxAttempts) continue;
        if (error instanceof JitError || (error instanceof Error && resolverErrors.has(error))) throw error;
        throw new StoreError('The account store failed during sign-in.', error);
      }
    }
  }

  // ---- The decision (DESIGN.md, "The provisioning decision") ----------------------------------

  /** Step 1: the login comes from this connection's IdP, into this connection's tenant. */
  function checkIssuer(connection: Connection, request: ProvisionRequest): void {
    if (request.tenantId !== undefined && request.tenantId !== connection.tenantId) {
      throw new TenantMismatchError(connection.id, request.tenantId);
    }
    if (request.profile.issuer !== connection.issuer) {
      throw new IssuerMismatchError(connection.issuer, request.profile.issuer);
    }
    if (request.profile.protocol !== connection.protocol) {
      // An OIDC token whose iss happens to equal a SAML IdP's entity id is still not that IdP's login.
      throw new IssuerMismatchError(
        `${connection.issuer} (${connection.protocol})`,
        `${request.profile.issuer} (${request.profile.protocol})`,
      );
    }
  }

  /** The roles a login grants: rules, else the default roles, else (strict) a denial. */
  function grantedRoles(connection: Connection, mapped: MappedProfile): string[] {
    const fromRules = rolesForGroups(connection, mapped.groups);
    if (fromRules) return fromRules;
    if (connection.strictRoles) throw new NoRoleGrantedError(mapped.groups);
    return [...connection.defaultRoles].sort();
  }

  /** Replaces the `jit` grants with `granted`, keeping grants from SCIM and administrators. */
  function syncGrants(current: readonly RoleGrant[], granted: readonly string[]): RoleGrant[] {
    const kept = current.filter((g) => g.source !== 'jit');
    const held = new Set(kept.map((g) => g.role));
    return [
      ...kept,
      ...granted.filter((role) => !held.has(role)).map((role) => ({ role, source: 'jit' as const })),
    ];
  }

  /** Whether the user's grants are exactly `granted` (sorted), all from logins: nothing to sync. */
  function onlyJitGrantsOf(current: readonly RoleGrant[], granted: readonly string[]): boolean {
    if (current.length !== granted.length) return false;
    for (let i = 0; i < current.length; i++) {
      if (current[i]!.source !== 'jit' || current[i]!.role !== granted[i]) return false;
    }
    return true;
  }

  function emailIsVerified(connection: Connection, profile: SsoProfile): boolean {
    if (profile.emailVerified === true) return true;
    return connection.emailAuthoritative && profile.emailVerified !== false;
  }

  /**
   * An account created (or re-addressed) from an unverified OIDC email would let whoever typed that
   * address hold the account its real owner later links into; the issue requires `email_verified`
   * unless the connection is authoritative. SAML carries no such claim and is governed by linking.
   */
  function requireVerifiedOidcEmail(connection: Connection, profile: SsoProfile): void {
    if (profile.protocol === 'oidc' && !emailIsVerified(connection, profile))
      throw new EmailNotVerifiedError();
  }

  function requireVerifiedDomain(connection: Connection, email: string): void {
    const domain = emailDomain(email);
    if (!isDomainVerified(domain, connection.verifiedDomains)) throw new DomainNotAllowedError(domain);
  }

  /** The fields a login writes onto an existing user, and what changed. */
  async function syncedPatch(
    tx: StoreTransaction,
    connection: Connection,
    user: UserRecord,
    profile: SsoProfile,
    mapped: MappedProfile,
    at: Date,
  ): Promise<{ patch: UserPatch; changes: Change[] }> {
    const patch: UserPatch = { lastLoginAt: at, updatedAt: at };
    const changes: Change[] = [];
    if (connection.authority === 'directory') return { patch, changes };

    if (connection.mapping['email']?.sync === 'every-login' && mapped.email !== user.email) {
      requireVerifiedDomain(connection, mapped.email);
      requireVerifiedOidcEmail(connection, profile);
      const holder = await tx.findUserByEmail(user.tenantId, mapped.email);
      if (holder && holder.id !== user.id) {
        throw new AccountConflictError(
          'The identity provider changed this person’s email to one that another account already uses.',
          { userId: user.id },
        );
      }
      patch.email = mapped.email;
      changes.push({ field: 'email', from: user.email, to: mapped.email });
    }

    // Copied only when something changes: most sign-ins change nothing.
    let attributes: Record<string, unknown> | null = null;
    for (const field of Object.keys(mapped.attributes)) {
      const value = mapped.attributes[field];
      const held = Object.hasOwn(user.attributes, field);
      if (held && connection.mapping[field]?.sync !== 'every-login') continue;
      const current = held ? user.attributes[field] : undefined;
      if (sameValue(current, value)) continue;
      changes.push({ field, from: current ?? null, to: value });
      (attributes ??= { ...user.attributes })[field] = value;
    }
    if (attributes) patch.attributes = attributes;

    if (connection.syncRoles) {
      const granted = grantedRoles(connection, mapped);
      if (onlyJitGrantsOf(user.roles, granted)) return { patch, changes };
      const roles = syncGrants(user.roles, granted);
      const before = roleNames(user);
      const after = roleNames({ roles });
      if (!sameValue(before, after) || roles.length !== user.roles.length) {
        patch.roles = roles;
        changes.push({ field: 'roles', from: before, to: after });
      }
    }
    return { patch, changes };
  }

  /** Step 3: a returning subject. */
  async function signIn(
    tx: StoreTransaction,
    connection: Connection,
    profile: SsoProfile,
    identity: IdentityRecord,
    user: UserRecord,
    mapped: MappedProfile,
  ): Promise<ProvisioningResult> {
    if (user.tenantId !== connection.tenantId) throw new TenantMismatchError(connection.id, user.tenantId);
    if (user.status !== 'active') throw new UserDeactivatedError(user.id);
    const { patch, changes } = await syncedPatch(tx, connection, user, profile, mapped, now());
    const updated = await tx.updateUser(user.id, patch);
    const action = changes.length ? 'updated' : 'unchanged';
    return {
      action,
      user: updated,
      identity,
      roles: roleNames(updated),
      changes,
      connectionId: connection.id,
    };
  }

  /** Step 4: link an existing account, only when it is safe. */
  async function link(
    tx: StoreTransaction,
    connection: Connection,
    profile: SsoProfile,
    user: UserRecord,
    mapped: MappedProfile,
  ): Promise<ProvisioningResult> {
    if (user.tenantId !== connection.tenantId) throw new TenantMismatchError(connection.id, user.tenantId);
    if (user.status !== 'active') throw new UserDeactivatedError(user.id);
    const others = await tx.listIdentitiesOfUser(user.id);
    if (
      others.some(
        (identity) => identity.connectionId === connection.id && identity.subject === profile.subject,
      )
    ) {
      // This very subject was linked by a concurrent first login that committed after this
      // transaction looked it up (read committed): retry, and the retry signs in.
      throw new StoreConflictError('identity');
    }
    if (others.some((identity) => identity.connectionId === connection.id)) {
      throw new AccountConflictError(
        'The account with this email is already linked to another identity of this identity provider.',
        { userId: user.id },
      );
    }
    const at = now();
    const identity = await tx.insertIdentity({
      id: randomUUID(),
      tenantId: connection.tenantId,
      connectionId: connection.id,
      subject: profile.subject,
      userId: user.id,
      createdAt: at,
    });
    const { patch, changes } = await syncedPatch(tx, connection, user, profile, mapped, at);
    const updated = await tx.updateUser(user.id, patch);
    return {
      action: 'linked',
      user: updated,
      identity,
      roles: roleNames(updated),
      changes,
      connectionId: connection.id,
    };
  }

  /** Step 5: a new account, within the mode and the seat limit. */
  async function create(
    tx: StoreTransaction,
    connection: Connection,
    tenant: Tenant,
    profile: SsoProfile,
    mapped: MappedProfile,
  ): Promise<ProvisioningResult> {
    if (tenant.requireProvisionedUsers) throw new UserNotProvisionedError();
    if (connection.mode !== 'create') throw new JitDisabledError(connection.id, connection.mode);
    requireVerifiedOidcEmail(connection, profile);
    const roles = grantedRoles(connection, mapped);
    if (tenant.seatLimit !== null && !(await tx.acquireSeat(tenant.id, tenant.seatLimit))) {
      // The seat lock waited for concurrent logins: one of them may have created this very person,
      // after this transaction looked them up (read committed). Retry, and the retry signs in.
      if (await tx.findIdentity(connection.id, profile.subject)) throw new StoreConflictError('identity');
      if (await tx.findUserByEmail(tenant.id, mapped.email)) throw new StoreConflictError('email');
      throw new SeatLimitReachedError(tenant.id, tenant.seatLimit);
    }
    const at = now();
    const user = await tx.insertUser({
      id: randomUUID(),
      tenantId: tenant.id,
      email: mapped.email,
      status: 'active',
      source: 'jit',
      attributes: { ...mapped.attributes },
      roles: roles.map((role) => ({ role, source: 'jit' })),
      externalId: null,
      createdAt: at,
      lastLoginAt: at,
    });
    const identity = await tx.insertIdentity({
      id: randomUUID(),
      tenantId: tenant.id,
      connectionId: connection.id,
      subject: profile.subject,
      userId: user.id,
      createdAt: at,
    });
    const changes: Change[] = [
      { field: 'email', from: null, to: user.email },
      ...Object.entries(mapped.attributes).map(([field, to]) => ({ field, from: null, to })),
      { field: 'roles', from: [], to: roleNames(user) },
    ];
    return {
      action: 'created',
      user,
      identity,
      roles: roleNames(user),
      changes,
      connectionId: connection.id,
    };
  }

  async function runResolver(context: ResolverContext): Promise<ResolverDecision> {
    if (!options.resolve) return CONTINUE;
    try {
      const verdict = await options.resolve(context);
      // An app bug, not a database outage: say so instead of surfacing it as STORE_FAILURE.
      if (!verdict || !RESOLVER_ACTIONS.has(verdict.action)) {
        throw new ConfigurationError(
          `The resolver returned ${JSON.stringify(verdict?.action ?? verdict)}; expected "continue", "link" or "reject".`,
        );
      }
      return verdict;
    } catch (error) {
      if (error instanceof Error && !(error instanceof JitError)) resolverErrors.add(error);
      throw error;
    }
  }

  /** Steps 3 to 5 in one transaction. */
  async function decide(
    tx: StoreTransaction,
    connection: Connection,
    profile: SsoProfile,
    mapped: MappedProfile,
  ): Promise<ProvisioningResult> {
    const existing = await tx.findIdentity(connection.id, profile.subject);
    const verdict = options.resolve
      ? await runResolver({ connection, profile, mapped, linkedUser: existing?.user ?? null, store: tx })
      : CONTINUE;
    if (verdict.action === 'reject') throw new ResolverRejectedError(verdict.reason, verdict.message);

    if (existing) {
      if (verdict.action === 'link' && verdict.userId !== existing.user.id) {
        throw new AccountConflictError('The application asked to link this identity to another account.', {
          userId: existing.user.id,
        });
      }
      return signIn(tx, connection, profile, existing.identity, existing.user, mapped);
    }

    if (verdict.action === 'link') {
      const target = await tx.findUserById(verdict.userId);
      if (!target)
        throw new AccountConflictError('The application asked to link an account that does not exist.');
      return link(tx, connection, profile, target, mapped);
    }

    if (connection.mode === 'off') throw new JitDisabledError(connection.id, connection.mode);
    requireVerifiedDomain(connection, mapped.email);
    const byEmail = await tx.findUserByEmail(connection.tenantId, mapped.email);
    if (byEmail) {
      if (connection.linking === 'never') {
        throw new AccountConflictError(
          'An account with this email already exists and this connection does not link accounts by email.',
          { userId: byEmail.id },
        );
      }
      if (!emailIsVerified(connection, profile)) throw new EmailNotVerifiedError();
      return link(tx, connection, profile, byEmail, mapped);
    }
    return create(tx, connection, tenantOf(connection.tenantId), profile, mapped);
  }

  async function recordDenial(
    error: JitError,
    connection: Connection | null,
    request: ProvisionRequest,
  ): Promise<AuditEvent | null> {
    const event = audit(connection?.tenantId ?? request.tenantId ?? 'unknown', 'jit', 'denied', {
      connectionId: connection?.id ?? request.connectionId,
      subject: typeof request.profile?.subject === 'string' ? request.profile.subject : null,
      userId: typeof error.details['userId'] === 'string' ? error.details['userId'] : null,
      reason: error.code,
    });
    try {
      await store.transaction((tx) => tx.appendAudit(event));
      return event;
    } catch {
      return null; // The store is down: the denial stands; there is nowhere to record it.
    }
  }

  let prunedAt = 0;
  /**
   * Deletes expired single-use records, at most once per interval per process, after a login that
   * wrote one: the table stays as large as the messages still live. A failure here fails no login.
   */
  async function pruneSingleUses(): Promise<void> {
    const at = now();
    if (at.getTime() - prunedAt < SINGLE_USE_PRUNE_INTERVAL_MS) return;
    prunedAt = at.getTime();
    await store.pruneSingleUse(at, 1000).catch(() => undefined);
  }

  /** Records the login's message as used, or refuses it as a replay. */
  async function useOnce(
    tx: StoreTransaction,
    connection: Connection,
    message: NonNullable<ProvisionRequest['singleUse']>,
  ): Promise<void> {
    const key = createHash('sha256').update(message.key).digest('base64url');
    if (!(await tx.useOnce({ connectionId: connection.id, key, expiresAt: message.expiresAt, at: now() }))) {
      throw new JitError('SAML_REPLAY', 'This SAML response has already been used.');
    }
  }

  async function provision(request: ProvisionRequest): Promise<ProvisioningResult> {
    let connection: Connection | null = null;
    try {
      connection = connections.get(request.connectionId) ?? (await getConnection(request.connectionId));
      checkIssuer(connection, request);
      const mapped = mapProfile(request.profile, connection.mapping);
      const chosen = connection;
      let written: AuditEvent | null = null;
      const result = await inTransaction(async (tx) => {
        if (request.singleUse) await useOnce(tx, chosen, request.singleUse);
        const outcome = await decide(tx, chosen, request.profile, mapped);
        written = audit(chosen.tenantId, 'jit', outcome.action, {
          connectionId: chosen.id,
          subject: request.profile.subject,
          userId: outcome.user.id,
          changes: outcome.changes,
        });
        await tx.appendAudit(written);
        return outcome;
      });
      if (options.onEvent) await emit({ type: 'provisioned', result, audit: written! });
      if (request.singleUse) await pruneSingleUses();
      return result;
    } catch (error) {
      if (!(error instanceof JitError)) throw error;
      const recorded = await recordDenial(error, connection, request);
      if (options.onEvent) await emit({ type: 'denied', error, audit: recorded });
      throw error;
    }
  }

  async function setStatus(
    userId: string,
    status: 'active' | 'deactivated',
    actor: AuditActor,
    reason: string | null,
  ): Promise<UserRecord> {
    let written: AuditEvent | null = null;
    const user = await inTransaction(async (tx) => {
      const user = await tx.findUserById(userId);
      if (!user) throw new UserNotFoundError(userId);
      if (user.status === status) return user;
      if (status === 'active') await admitUser(tx, user.tenantId);
      const at = now();
      const updated = await tx.updateUser(userId, {
        status,
        deactivatedAt: status === 'deactivated' ? at : null,
        updatedAt: at,
      });
      written = audit(user.tenantId, actor, status === 'active' ? 'reactivated' : 'deactivated', {
        userId,
        reason,
        changes: [{ field: 'status', from: user.status, to: status }],
      });
      await tx.appendAudit(written);
      return updated;
    });
    if (written && options.onEvent) await emit({ type: 'lifecycle', user, audit: written });
    return user;
  }

  async function deactivateDormant(cleanup: DormantCleanupOptions): Promise<DormantCleanupReport> {
    const dryRun = cleanup.dryRun ?? true;
    const excluded = new Set(cleanup.excludeRoles ?? []);
    const limit = cleanup.batchSize ?? 500;
    let afterId: string | undefined;
    let deactivated = 0;
    let kept = 0;
    for (;;) {
      const page = await store.findDormantUsers(cleanup.tenantId, cleanup.notSeenSince, { afterId, limit });
      if (page.length === 0) break;
      afterId = page[page.length - 1]!.id;
      const chosen = page.filter((user) => !user.roles.some((grant) => excluded.has(grant.role)));
      kept += page.length - chosen.length;
      for (const user of chosen) cleanup.onUser?.(user);
      if (!dryRun && chosen.length) {
        let done: { user: UserRecord; audit: AuditEvent }[] = [];
        deactivated += await inTransaction(async (tx) => {
          done = [];
          let count = 0;
          for (const candidate of chosen) {
            // Re-read inside the transaction: the person may have signed in since the page was read.
            const user = await tx.findUserById(candidate.id);
            const seen = user?.lastLoginAt ?? user?.createdAt;
            if (!user || user.status !== 'active' || !seen || seen >= cleanup.notSeenSince) continue;
            const at = now();
            const updated = await tx.updateUser(user.id, {
              status: 'deactivated',
              deactivatedAt: at,
              updatedAt: at,
            });
            const event = audit(user.tenantId, cleanup.actor ?? 'system', 'deactivated', {
              userId: user.id,
              reason: 'dormant',
              changes: [{ field: 'status', from: 'active', to: 'deactivated' }],
            });
            await tx.appendAudit(event);
            done.push({ user: updated, audit: event });
            count++;
          }
          return count;
        });
        // After the commit, as for every other deactivation, so listeners can end sessions or revoke tokens.
        if (options.onEvent)
          for (const { user, audit } of done) await emit({ type: 'lifecycle', user, audit });
      } else if (dryRun) {
        deactivated += chosen.length;
      }
      if (page.length < limit) break;
    }
    return { dryRun, deactivated, kept };
  }

  return Object.freeze({
    store,
    provision,
    getConnection,
    listConnections: () => listed,
    admitUser,
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
      setStatus(userId, 'deactivated', o.actor ?? 'admin', o.reason ?? null),
    reactivateUser: (userId: string, o: { actor?: AuditActor; reason?: string } = {}) =>
      setStatus(userId, 'active', o.actor ?? 'admin', o.reason ?? null),
    deactivateDormant,
  });
}

export type { JitErrorCode };
