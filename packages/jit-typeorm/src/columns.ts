import type { EntitySchemaColumnOptions, ValueTransformer } from 'typeorm';

/**
 * How the store keeps values, the same on every dialect so that raw SQL and repositories agree:
 * instants are `bigint` milliseconds since the Unix epoch (UTC by definition, no time-zone
 * conversions in any driver), and structured values (attributes, roles, audit changes) are JSON
 * in a `text` column.
 */
export const epochMillis: ValueTransformer = {
  to: (value: Date | null | undefined) => (value == null ? value : value.getTime()),
  from: (value: string | number | null) => (value == null ? null : new Date(Number(value))),
};

export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === undefined ? undefined : JSON.stringify(value)),
  from: (value: string | null) => (value == null ? null : JSON.parse(value)),
};

type Column = EntitySchemaColumnOptions;

/**
 * The columns the store needs on a users table, by entity property name. An app that keeps its own
 * user entity declares these properties with these options (decorators take the same object:
 * `@Column(jitUserColumns.email)`), adds its own columns, and names its table as it likes.
 */
export const jitUserColumns = {
  id: { type: 'varchar', length: 36, primary: true },
  tenantId: { name: 'tenant_id', type: 'varchar', length: 128 },
  /** Normalised (NFKC, lower-case); compared byte for byte. */
  email: { name: 'email', type: 'varchar', length: 320 },
  status: { name: 'status', type: 'varchar', length: 16 },
  source: { name: 'source', type: 'varchar', length: 16 },
  attributes: { name: 'attributes', type: 'text', transformer: jsonText },
  /** The role grants as JSON: `[{ "role": "admin", "source": "jit" }]`. */
  roles: { name: 'roles', type: 'text', transformer: jsonText },
  externalId: { name: 'external_id', type: 'varchar', length: 255, nullable: true },
  createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
  updatedAt: { name: 'updated_at', type: 'bigint', transformer: epochMillis },
  lastLoginAt: { name: 'last_login_at', type: 'bigint', nullable: true, transformer: epochMillis },
  deactivatedAt: { name: 'deactivated_at', type: 'bigint', nullable: true, transformer: epochMillis },
} as const satisfies Record<string, Column>;

export type JitUserProperty = keyof typeof jitUserColumns;
export const JIT_USER_PROPERTIES = Object.keys(jitUserColumns) as JitUserProperty[];

export const identityColumns = {
  id: { type: 'varchar', length: 36, primary: true },
  tenantId: { name: 'tenant_id', type: 'varchar', length: 128 },
  connectionId: { name: 'connection_id', type: 'varchar', length: 128 },
  /** SAML NameID or OIDC `sub`; case-sensitive. */
  subject: { name: 'subject', type: 'varchar', length: 512 },
  userId: { name: 'user_id', type: 'varchar', length: 36 },
  createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
} as const satisfies Record<string, Column>;

export const auditColumns = {
  /** UUIDv7: ordered by time. */
  id: { type: 'varchar', length: 36, primary: true },
  at: { name: 'at', type: 'bigint', transformer: epochMillis },
  tenantId: { name: 'tenant_id', type: 'varchar', length: 128 },
  actor: { name: 'actor', type: 'varchar', length: 16 },
  action: { name: 'action', type: 'varchar', length: 16 },
  connectionId: { name: 'connection_id', type: 'varchar', length: 128, nullable: true },
  subject: { name: 'subject', type: 'varchar', length: 512, nullable: true },
  userId: { name: 'user_id', type: 'varchar', length: 36, nullable: true },
  reason: { name: 'reason', type: 'varchar', length: 255, nullable: true },
  changes: { name: 'changes', type: 'text', transformer: jsonText },
} as const satisfies Record<string, Column>;

export const tenantColumns = {
  id: { type: 'varchar', length: 128, primary: true },
  createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
} as const satisfies Record<string, Column>;

export const singleUseColumns = {
  connectionId: { name: 'connection_id', type: 'varchar', length: 128, primary: true },
  /** SHA-256 of the message's identity, base64url. */
  key: { name: 'key', type: 'varchar', length: 64, primary: true },
  expiresAt: { name: 'expires_at', type: 'bigint', transformer: epochMillis },
} as const satisfies Record<string, Column>;
