import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';
import { epochMillis, jsonText } from '../columns.js';

/**
 * The tables of the configuration store: tenants, connections and verified domains changed at run
 * time, the configuration version every copy of the app watches, and the record of every change.
 */

type Column = EntitySchemaColumnOptions;

/** One row (`id` 1): the version of the latest configuration change. */
export interface JitConfigState {
  id: number;
  version: number;
}

export interface JitConfigTenant {
  id: string;
  displayName: string | null;
  seatLimit: number | null;
  requireProvisionedUsers: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface JitConfigConnection {
  id: string;
  tenantId: string;
  protocol: string;
  definition: unknown;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface JitConfigDomain {
  domain: string;
  tenantId: string;
  status: string;
  challenge: string;
  version: number;
  createdAt: Date;
  verifiedAt: Date | null;
}

export interface JitConfigEvent {
  id: string;
  at: Date;
  version: number;
  tenantId: string;
  actor: string;
  action: string;
  target: string;
  changes: unknown;
}

const version = { name: 'version', type: 'bigint' } as const;

export const configStateColumns = {
  id: { type: 'int', primary: true },
  version,
} as const satisfies Record<string, Column>;

export const configTenantColumns = {
  id: { type: 'varchar', length: 128, primary: true },
  displayName: { name: 'display_name', type: 'varchar', length: 255, nullable: true },
  seatLimit: { name: 'seat_limit', type: 'int', nullable: true },
  requireProvisionedUsers: { name: 'require_provisioned_users', type: 'boolean' },
  version,
  createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
  updatedAt: { name: 'updated_at', type: 'bigint', transformer: epochMillis },
} as const satisfies Record<string, Column>;

export const configConnectionColumns = {
  id: { type: 'varchar', length: 128, primary: true },
  tenantId: { name: 'tenant_id', type: 'varchar', length: 128 },
  protocol: { name: 'protocol', type: 'varchar', length: 8 },
  /** The connection's `ConnectionInput` as JSON, verified domains left out. */
  definition: { name: 'definition', type: 'text', transformer: jsonText },
  version,
  createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
  updatedAt: { name: 'updated_at', type: 'bigint', transformer: epochMillis },
} as const satisfies Record<string, Column>;

export const configDomainColumns = {
  /** The primary key makes a domain belong to one tenant at most, across processes. */
  domain: { name: 'domain', type: 'varchar', length: 253, primary: true },
  tenantId: { name: 'tenant_id', type: 'varchar', length: 128 },
  status: { name: 'status', type: 'varchar', length: 16 },
  challenge: { name: 'challenge', type: 'varchar', length: 64 },
  version,
  createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
  verifiedAt: { name: 'verified_at', type: 'bigint', nullable: true, transformer: epochMillis },
} as const satisfies Record<string, Column>;

export const configEventColumns = {
  /** UUIDv7. */
  id: { type: 'varchar', length: 36, primary: true },
  at: { name: 'at', type: 'bigint', transformer: epochMillis },
  version,
  tenantId: { name: 'tenant_id', type: 'varchar', length: 128 },
  actor: { name: 'actor', type: 'varchar', length: 255 },
  action: { name: 'action', type: 'varchar', length: 32 },
  target: { name: 'target', type: 'varchar', length: 255 },
  changes: { name: 'changes', type: 'text', transformer: jsonText },
} as const satisfies Record<string, Column>;

export const JitConfigStateEntity = new EntitySchema<JitConfigState>({
  name: 'JitConfigState',
  tableName: 'jit_config_state',
  columns: configStateColumns,
});

export const JitConfigTenantEntity = new EntitySchema<JitConfigTenant>({
  name: 'JitConfigTenant',
  tableName: 'jit_config_tenants',
  columns: configTenantColumns,
});

export const JitConfigConnectionEntity = new EntitySchema<JitConfigConnection>({
  name: 'JitConfigConnection',
  tableName: 'jit_config_connections',
  columns: configConnectionColumns,
  indices: [{ name: 'IDX_jit_config_connections_tenant', columns: ['tenantId', 'id'] }],
});

export const JitConfigDomainEntity = new EntitySchema<JitConfigDomain>({
  name: 'JitConfigDomain',
  tableName: 'jit_config_domains',
  columns: configDomainColumns,
  indices: [{ name: 'IDX_jit_config_domains_tenant', columns: ['tenantId', 'domain'] }],
});

export const JitConfigEventEntity = new EntitySchema<JitConfigEvent>({
  name: 'JitConfigEvent',
  tableName: 'jit_config_events',
  columns: configEventColumns,
  indices: [
    { name: 'IDX_jit_config_events_version', columns: ['version', 'id'] },
    { name: 'IDX_jit_config_events_tenant', columns: ['tenantId', 'version'] },
  ],
});

export const configurationEntities: EntitySchema[] = [
  JitConfigStateEntity,
  JitConfigTenantEntity,
  JitConfigConnectionEntity,
  JitConfigDomainEntity,
  JitConfigEventEntity,
] as EntitySchema[];
