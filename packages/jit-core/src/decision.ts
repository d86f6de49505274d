import { randomUUID } from 'node:crypto';
import { rolesForGroups, type Connection, type Tenant } from './connection.js';
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
  TenantMismatchError,
  UserDeactivatedError,
  UserNotProvisionedError,
} from './errors.js';
import type { MappedProfile } from './mapping.js';
import { roleNames, type Change, type IdentityRecord, type RoleGrant, type UserRecord } from './model.js';
import type { SsoProfile } from './profile.js';
import type { StoreTransaction, UserPatch } from './store.js';

// The provisioning decision (DESIGN.md, "The provisioning decision"): `checkIssuer` is step 1,
// `decide` runs steps 3 to 5 inside the login's transaction, one named function per step.

/** What a login ended in. A denial is a thrown `JitError`, never a result. */
export type ProvisioningResult =
  LoginOutcome<'created'> | LoginOutcome<'linked'> | LoginOutcome<'updated'> | LoginOutcome<'unchanged'>;

export interface LoginOutcome<A extends 'created' | 'linked' | 'updated' | 'unchanged'> {
  readonly action: A;
  readonly user: UserRecord;
  readonly identity: IdentityRecord;
  /** The user's roles after the login, from every source. */
  readonly roles: readonly string[];
  readonly changes: readonly Change[];
  readonly connectionId: string;
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

/** What the decision needs from the provisioner that runs it. */
export interface DecisionSettings {
  readonly now: () => Date;
  readonly tenantOf: (id: string) => Tenant | Promise<Tenant>;
  /** The app's resolver, wrapped by `checkedResolver`; `null` when the app has none. */
  readonly resolve: ((context: ResolverContext) => Promise<ResolverDecision>) | null;
}

/** One login being decided, inside its transaction. */
export interface Login {
  readonly tx: StoreTransaction;
  readonly connection: Connection;
  readonly profile: SsoProfile;
  readonly mapped: MappedProfile;
}

const CONTINUE: ResolverDecision = Object.freeze({ action: 'continue' });
const RESOLVER_ACTIONS = new Set<string>(['continue', 'link', 'reject']);

/** Step 1: the login comes from this connection's IdP, into this connection's tenant. */
export function checkIssuer(
  connection: Connection,
  request: { readonly tenantId?: string; readonly profile: SsoProfile },
): void {
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

/** Steps 3 to 5 in one transaction. */
export async function decide(settings: DecisionSettings, login: Login): Promise<ProvisioningResult> {
  const { tx, connection, profile, mapped } = login;
  const existing = await tx.findIdentity(connection.id, profile.subject);
  const verdict = settings.resolve
    ? await settings.resolve({ connection, profile, mapped, linkedUser: existing?.user ?? null, store: tx })
    : CONTINUE;
  if (verdict.action === 'reject') throw new ResolverRejectedError(verdict.reason, verdict.message);

  if (existing) {
    if (verdict.action === 'link' && verdict.userId !== existing.user.id) {
      throw new AccountConflictError('The application asked to link this identity to another account.', {
        userId: existing.user.id,
      });
    }
    return signIn(settings, login, existing.identity, existing.user);
  }

  if (verdict.action === 'link') {
    const target = await tx.findUserById(verdict.userId);
    if (!target)
      throw new AccountConflictError('The application asked to link an account that does not exist.');
    return link(settings, login, target);
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
    return link(settings, login, byEmail);
  }
  return create(settings, login, await settings.tenantOf(connection.tenantId));
}

/** Step 3: a returning subject. */
async function signIn(
  settings: DecisionSettings,
  login: Login,
  identity: IdentityRecord,
  user: UserRecord,
): Promise<ProvisioningResult> {
  const { tx, connection } = login;
  if (user.tenantId !== connection.tenantId) throw new TenantMismatchError(connection.id, user.tenantId);
  if (user.status !== 'active') throw new UserDeactivatedError(user.id);
  const { patch, changes } = await syncedPatch(login, user, settings.now());
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
async function link(settings: DecisionSettings, login: Login, user: UserRecord): Promise<ProvisioningResult> {
  const { tx, connection, profile } = login;
  if (user.tenantId !== connection.tenantId) throw new TenantMismatchError(connection.id, user.tenantId);
  if (user.status !== 'active') throw new UserDeactivatedError(user.id);
  const others = await tx.listIdentitiesOfUser(user.id);
  if (
    others.some((identity) => identity.connectionId === connection.id && identity.subject === profile.subject)
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
  const at = settings.now();
  const identity = await tx.insertIdentity({
    id: randomUUID(),
    tenantId: connection.tenantId,
    connectionId: connection.id,
    subject: profile.subject,
    userId: user.id,
    createdAt: at,
  });
  const { patch, changes } = await syncedPatch(login, user, at);
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
async function create(settings: DecisionSettings, login: Login, tenant: Tenant): Promise<ProvisioningResult> {
  const { tx, connection, profile, mapped } = login;
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
  const at = settings.now();
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

/**
 * The app's resolver, checked: a verdict that is not one of the three actions is a configuration
 * error. Errors the resolver throws that are not `JitError`s are added to `appErrors`, so that the
 * transaction passes them on as the app's own instead of reporting a store failure.
 */
export function checkedResolver(
  resolve: Resolver | undefined,
  appErrors: WeakSet<object>,
): DecisionSettings['resolve'] {
  if (!resolve) return null;
  return async (context) => {
    try {
      const verdict = await resolve(context);
      // An app bug, not a database outage: say so instead of surfacing it as STORE_FAILURE.
      if (!verdict || !RESOLVER_ACTIONS.has(verdict.action)) {
        throw new ConfigurationError(
          `The resolver returned ${JSON.stringify(verdict?.action ?? verdict)}; expected "continue", "link" or "reject".`,
        );
      }
      return verdict;
    } catch (error) {
      if (error instanceof Error && !(error instanceof JitError)) appErrors.add(error);
      throw error;
    }
  };
}

/** The fields a login writes onto an existing user, and what changed. */
async function syncedPatch(
  login: Login,
  user: UserRecord,
  at: Date,
): Promise<{ patch: UserPatch; changes: Change[] }> {
  const { connection, mapped } = login;
  const patch: UserPatch = { lastLoginAt: at, updatedAt: at };
  const changes: Change[] = [];
  if (connection.authority === 'directory') return { patch, changes };

  if (connection.mapping['email']?.sync === 'every-login' && mapped.email !== user.email) {
    await checkNewEmail(login, user);
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

/** An address the IdP moved this user to: as trusted as a new account's, and no one else's. */
async function checkNewEmail({ tx, connection, profile, mapped }: Login, user: UserRecord): Promise<void> {
  requireVerifiedDomain(connection, mapped.email);
  requireVerifiedOidcEmail(connection, profile);
  const holder = await tx.findUserByEmail(user.tenantId, mapped.email);
  if (holder && holder.id !== user.id) {
    throw new AccountConflictError(
      'The identity provider changed this person’s email to one that another account already uses.',
      { userId: user.id },
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
  if (profile.protocol === 'oidc' && !emailIsVerified(connection, profile)) throw new EmailNotVerifiedError();
}

function requireVerifiedDomain(connection: Connection, email: string): void {
  const domain = emailDomain(email);
  if (!isDomainVerified(domain, connection.verifiedDomains)) throw new DomainNotAllowedError(domain);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}
