import { getDomain } from 'tldts';
import { z } from 'zod';
import { ConfigurationError } from './errors.js';
import {
  buildMapping,
  PRESET_NAMES,
  type AttributeMapping,
  type FieldMappingInput,
  type PresetName,
} from './mapping.js';
import { normaliseDomain } from './email.js';

export type JitMode = 'create' | 'link-only' | 'off';

export interface RoleRule {
  /** The group as the IdP sends it (a name, or an object id for Entra ID). */
  readonly group: string;
  readonly roles: readonly string[];
}

/** A connection as the app configures it (JSON-friendly). Validated and frozen by `defineConnection`. */
export interface ConnectionInput {
  id: string;
  tenantId: string;
  protocol: 'saml' | 'oidc';
  /** SAML IdP entity id or OIDC issuer URL; the login's issuer must equal it. */
  issuer: string;
  /** Defaults to `saml` or `oidc` by protocol. */
  preset?: PresetName;
  /** Field-by-field overrides of the preset; `null` removes a field. */
  mapping?: Record<string, FieldMappingInput | null>;
  jit?: {
    mode?: JitMode;
    /** Email domains this tenant has verified. `*.acme.com` admits subdomains. */
    verifiedDomains?: string[];
    /** `verified-email` (default): link an existing account by verified email on a verified domain. */
    linking?: 'verified-email' | 'never';
    /**
     * The IdP is the authority for addresses on the verified domains: SAML emails count as verified,
     * and an OIDC login needs no `email_verified` claim. Only for IdPs that own the domain.
     */
    emailAuthoritative?: boolean;
    /** Roles for a person whom no rule grants one; default none (least privilege). */
    defaultRoles?: string[];
    roleRules?: RoleRule[];
    /** Deny a login that no rule grants a role to, instead of falling back to `defaultRoles`. */
    strictRoles?: boolean;
    /** Recompute `jit` role grants at every login, removing those no longer granted (default true). */
    syncRoles?: boolean;
    /** Match group names without regard to case (default false). */
    groupsCaseInsensitive?: boolean;
  };
  /**
   * `idp` (default): logins update attributes and roles. `directory`: a SCIM directory is the
   * authority, logins only sign in and link.
   */
  authority?: 'idp' | 'directory';
  /** Microsoft Entra multi-tenant issuers: the `tid` values admitted. */
  allowedTenantIds?: string[];
  /** Protocol settings for the adapters (certificates, URLs, client ids); the engine does not read them. */
  protocolOptions?: Record<string, unknown>;
}

export interface Connection {
  readonly id: string;
  readonly tenantId: string;
  readonly protocol: 'saml' | 'oidc';
  readonly issuer: string;
  readonly preset: PresetName;
  readonly mapping: AttributeMapping;
  readonly mode: JitMode;
  readonly verifiedDomains: readonly string[];
  readonly linking: 'verified-email' | 'never';
  readonly emailAuthoritative: boolean;
  readonly defaultRoles: readonly string[];
  readonly roleRules: readonly RoleRule[];
  readonly strictRoles: boolean;
  readonly syncRoles: boolean;
  readonly groupsCaseInsensitive: boolean;
  readonly authority: 'idp' | 'directory';
  readonly allowedTenantIds: readonly string[];
  readonly protocolOptions: Readonly<Record<string, unknown>>;
}

export interface TenantInput {
  id: string;
  /** Most active users the tenant may have; JIT creation beyond it is refused. */
  seatLimit?: number;
  /** Only people provisioned by the tenant's SCIM directory may sign in. */
  requireProvisionedUsers?: boolean;
}

export interface Tenant {
  readonly id: string;
  readonly seatLimit: number | null;
  readonly requireProvisionedUsers: boolean;
}

const text = z.string().trim().min(1);

/**
 * Whether anyone can register names directly under `domain` (the Public Suffix List, its private
 * section included: `github.io` is refused as `co.uk` is). A tenant verifying one would admit every
 * email under it.
 */
export function isPublicSuffix(domain: string): boolean {
  return getDomain(domain, { allowPrivateDomains: true }) === null;
}
const domain = z
  .string()
  .transform(normaliseDomain)
  .pipe(
    z
      .string()
      .regex(/^(\*\.)?([\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]+$/u, 'must be a domain such as acme.com or *.acme.com')
      .refine(
        (value) => !isPublicSuffix(value.replace(/^\*\./, '')),
        'is a public suffix (such as co.uk or github.io), under which anyone can register a domain: list the domain the tenant owns, such as acme.co.uk',
      ),
  );
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

const connectionSchema = z.strictObject({
  id: text.regex(/^[A-Za-z0-9._-]+$/, 'may only contain letters, digits, ".", "_" and "-"'),
  tenantId: text,
  protocol: z.enum(['saml', 'oidc']),
  issuer: text,
  preset: z.enum(PRESET_NAMES as [PresetName, ...PresetName[]]).optional(),
  mapping: z.record(z.string(), fieldSpec.nullable()).optional(),
  jit: z
    .strictObject({
      mode: z.enum(['create', 'link-only', 'off']).optional(),
      verifiedDomains: z.array(domain).optional(),
      linking: z.enum(['verified-email', 'never']).optional(),
      emailAuthoritative: z.boolean().optional(),
      defaultRoles: z.array(text).optional(),
      roleRules: z.array(z.strictObject({ group: text, roles: z.array(text).min(1) })).optional(),
      strictRoles: z.boolean().optional(),
      syncRoles: z.boolean().optional(),
      groupsCaseInsensitive: z.boolean().optional(),
    })
    .optional(),
  authority: z.enum(['idp', 'directory']).optional(),
  allowedTenantIds: z.array(text).optional(),
  protocolOptions: z.record(z.string(), z.unknown()).optional(),
});

const tenantSchema = z.strictObject({
  id: text,
  seatLimit: z.number().int().nonnegative().optional(),
  requireProvisionedUsers: z.boolean().optional(),
});

function describeIssues(what: string, error: z.ZodError): ConfigurationError {
  const lines = error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  return new ConfigurationError(`Invalid ${what}: ${lines.join('; ')}`, {
    details: { issues: lines },
  });
}

/** Freezes plain objects and arrays; class instances (a Buffer, an adapter's cache) are the app's own. */
function deepFreeze<T>(value: T): T {
  if (!value || typeof value !== 'object' || Object.isFrozen(value)) return value;
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value) || proto === Object.prototype || proto === null) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Validates a connection and returns it frozen with every default filled in. Throws `INVALID_CONFIGURATION`. */
export function defineConnection(input: ConnectionInput): Connection {
  return buildConnection(input, true);
}

/**
 * A connection kept in a configuration store: its verified domains are the tenant's, proven through
 * a DNS challenge, and may still be none while the tenant onboards (every JIT creation and every
 * link by email is then refused with `DOMAIN_NOT_ALLOWED`).
 */
export function defineStoredConnection(input: ConnectionInput): Connection {
  return buildConnection(input, false);
}

function buildConnection(input: ConnectionInput, requireDomains: boolean): Connection {
  const parsed = connectionSchema.safeParse(input);
  const label = `connection "${(input as { id?: unknown })?.id ?? '?'}"`;
  if (!parsed.success) throw describeIssues(label, parsed.error);
  const c = parsed.data;
  const jit = c.jit ?? {};
  if (c.mapping && c.mapping['email'] === null) {
    throw new ConfigurationError(`Invalid ${label}: mapping.email: the email field cannot be removed`);
  }
  const preset = c.preset ?? c.protocol;
  const mode = jit.mode ?? 'create';
  const verifiedDomains = [...new Set(jit.verifiedDomains ?? [])];
  if (requireDomains && mode !== 'off' && verifiedDomains.length === 0) {
    throw new ConfigurationError(
      `Invalid ${label}: jit.verifiedDomains: list the email domains this tenant has verified (mode "${mode}" needs at least one)`,
    );
  }
  return deepFreeze({
    id: c.id,
    tenantId: c.tenantId,
    protocol: c.protocol,
    issuer: c.issuer,
    preset,
    mapping: buildMapping(preset, c.mapping ?? {}),
    mode,
    verifiedDomains,
    linking: jit.linking ?? 'verified-email',
    emailAuthoritative: jit.emailAuthoritative ?? false,
    defaultRoles: [...new Set(jit.defaultRoles ?? [])],
    roleRules: (jit.roleRules ?? []).map((r) => ({ group: r.group, roles: [...new Set(r.roles)] })),
    strictRoles: jit.strictRoles ?? false,
    syncRoles: jit.syncRoles ?? true,
    groupsCaseInsensitive: jit.groupsCaseInsensitive ?? false,
    authority: c.authority ?? 'idp',
    allowedTenantIds: c.allowedTenantIds ?? [],
    protocolOptions: { ...(c.protocolOptions ?? {}) },
  });
}

export function defineTenant(input: TenantInput): Tenant {
  const parsed = tenantSchema.safeParse(input);
  if (!parsed.success)
    throw describeIssues(`tenant "${(input as { id?: unknown })?.id ?? '?'}"`, parsed.error);
  return deepFreeze({
    id: parsed.data.id,
    seatLimit: parsed.data.seatLimit ?? null,
    requireProvisionedUsers: parsed.data.requireProvisionedUsers ?? false,
  });
}

/** The roles a login's groups grant under the connection's rules; `null` when no rule matched. */
export function rolesForGroups(connection: Connection, groups: readonly string[]): string[] | null {
  const fold = connection.groupsCaseInsensitive ? (g: string) => g.toLowerCase() : (g: string) => g;
  const member = new Set(groups.map(fold));
  const roles = new Set<string>();
  let matched = false;
  for (const rule of connection.roleRules) {
    if (!member.has(fold(rule.group))) continue;
    matched = true;
    for (const role of rule.roles) roles.add(role);
  }
  return matched ? [...roles].sort() : null;
}
