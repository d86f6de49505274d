import { EntitySchema, type MigrationInterface } from 'typeorm';
import type { AuditEvent, IdentityRecord, UserRecord } from '@jit-sso/core';
import { auditColumns, identityColumns, jitUserColumns, singleUseColumns, tenantColumns } from './columns.js';
import { JitInitSqlite1795439311928 } from './migrations/sqlite/1795439311928-JitInit.js';
import { JitInitPostgres1795439311928 } from './migrations/postgres/1795439311928-JitInit.js';
import { JitInitMysql1795439311928 } from './migrations/mysql/1795439311928-JitInit.js';
import { JitSingleUsesSqlite1796587449098 } from './migrations/sqlite/1796587449098-JitSingleUses.js';
import { JitSingleUsesPostgres1796587449098 } from './migrations/postgres/1796587449098-JitSingleUses.js';
import { JitSingleUsesMysql1796587449098 } from './migrations/mysql/1796587449098-JitSingleUses.js';
import { outboxEntities } from './outbox/schema.js';
import { JitOutboxSqlite1797100000000 } from './migrations/sqlite/1797100000000-JitOutbox.js';
import { JitOutboxPostgres1797100000000 } from './migrations/postgres/1797100000000-JitOutbox.js';
import { JitOutboxMysql1797100000000 } from './migrations/mysql/1797100000000-JitOutbox.js';
import { scimDirectoryEntities, scimDirectoryEntitiesMysql } from './directory/schema.js';
import { configurationEntities } from './configuration/schema.js';
import { signInTraceEntities } from './tracer/schema.js';
import { ScimDirectorySqlite1795439937548 } from './directory/migrations/sqlite/1795439937548-ScimDirectory.js';
import { ScimDirectoryPostgres1795439937548 } from './directory/migrations/postgres/1795439937548-ScimDirectory.js';
import { ScimDirectoryMysql1795439937548 } from './directory/migrations/mysql/1795439937548-ScimDirectory.js';
import { ScimListsAndMembersSqlite1795500000000 } from './directory/migrations/sqlite/1795500000000-ScimListsAndMembers.js';
import { ScimListsAndMembersPostgres1795500000000 } from './directory/migrations/postgres/1795500000000-ScimListsAndMembers.js';
import { ScimListsAndMembersMysql1795500000000 } from './directory/migrations/mysql/1795500000000-ScimListsAndMembers.js';
import { ScimMemberKeysSqlite1796554028010 } from './directory/migrations/sqlite/1796554028010-ScimMemberKeys.js';
import { ScimGroupMemberCountsSqlite1796600000000 } from './directory/migrations/sqlite/1796600000000-ScimGroupMemberCounts.js';
import { ScimMemberKeysPostgres1796554028010 } from './directory/migrations/postgres/1796554028010-ScimMemberKeys.js';
import { ScimGroupMemberCountsPostgres1796600000000 } from './directory/migrations/postgres/1796600000000-ScimGroupMemberCounts.js';
import { ScimMemberKeysMysql1796554028010 } from './directory/migrations/mysql/1796554028010-ScimMemberKeys.js';
import { ScimGroupMemberCountsMysql1796600000000 } from './directory/migrations/mysql/1796600000000-ScimGroupMemberCounts.js';
import { ScimCountSlotsSqlite1797300000000 } from './directory/migrations/sqlite/1797300000000-ScimCountSlots.js';
import { ScimCountSlotsPostgres1797300000000 } from './directory/migrations/postgres/1797300000000-ScimCountSlots.js';
import { ScimCountSlotsMysql1797300000000 } from './directory/migrations/mysql/1797300000000-ScimCountSlots.js';
import { ScimLargeResourcesMysql1797000000000 } from './directory/migrations/mysql/1797000000000-ScimLargeResources.js';
import { JitConfigurationSqlite1797200000000 } from './migrations/sqlite/1797200000000-JitConfiguration.js';
import { JitConfigurationPostgres1797200000000 } from './migrations/postgres/1797200000000-JitConfiguration.js';
import { JitConfigurationMysql1797200000000 } from './migrations/mysql/1797200000000-JitConfiguration.js';
import { JitSignInTracesSqlite1797400000000 } from './migrations/sqlite/1797400000000-JitSignInTraces.js';
import { JitSignInTracesPostgres1797400000000 } from './migrations/postgres/1797400000000-JitSignInTraces.js';
import { JitSignInTracesMysql1797400000000 } from './migrations/mysql/1797400000000-JitSignInTraces.js';

/**
 * Every table of the package, in one place: the entities an app puts in its DataSource and the
 * migrations that create them, per dialect. Features that add tables append to these arrays.
 */

/** A row of `jit_users`, as a repository returns it. */
export type JitUser = { -readonly [K in keyof UserRecord]: UserRecord[K] };
export type JitIdentity = { -readonly [K in keyof IdentityRecord]: IdentityRecord[K] };
export type JitAuditEvent = { -readonly [K in keyof AuditEvent]: AuditEvent[K] };
export interface JitTenant {
  id: string;
  createdAt: Date;
}
export interface JitSingleUse {
  connectionId: string;
  key: string;
  expiresAt: Date;
}

export const USER_EMAIL_INDEX = 'UQ_jit_users_tenant_email';
export const IDENTITY_SUBJECT_INDEX = 'UQ_jit_identities_connection_subject';

export const JitUserEntity = new EntitySchema<JitUser>({
  name: 'JitUser',
  tableName: 'jit_users',
  columns: jitUserColumns,
  indices: [
    { name: USER_EMAIL_INDEX, columns: ['tenantId', 'email'], unique: true },
    // Listing, counting and dormant scans: by tenant and status, in id order.
    { name: 'IDX_jit_users_tenant_status_id', columns: ['tenantId', 'status', 'id'] },
  ],
});

export const JitIdentityEntity = new EntitySchema<JitIdentity>({
  name: 'JitIdentity',
  tableName: 'jit_identities',
  columns: identityColumns,
  indices: [
    { name: IDENTITY_SUBJECT_INDEX, columns: ['connectionId', 'subject'], unique: true },
    { name: 'IDX_jit_identities_user', columns: ['userId'] },
  ],
});

export const JitAuditEventEntity = new EntitySchema<JitAuditEvent>({
  name: 'JitAuditEvent',
  tableName: 'jit_audit_events',
  columns: auditColumns,
  indices: [
    { name: 'IDX_jit_audit_events_tenant_id', columns: ['tenantId', 'id'] },
    { name: 'IDX_jit_audit_events_user_id', columns: ['userId', 'id'] },
  ],
});

/** One row per tenant, locked to serialise seat counting. */
export const JitTenantEntity = new EntitySchema<JitTenant>({
  name: 'JitTenant',
  tableName: 'jit_tenants',
  columns: tenantColumns,
});

/**
 * Messages used once (SAML assertion ids), per connection, until they expire: replay protection
 * that outlives any cache, written in the login's transaction.
 */
export const JitSingleUseEntity = new EntitySchema<JitSingleUse>({
  name: 'JitSingleUse',
  tableName: 'jit_single_uses',
  columns: singleUseColumns,
  indices: [{ name: 'IDX_jit_single_uses_expires_at', columns: ['expiresAt'] }],
});

/** The entities to list in the app's DataSource `entities`. */
export const jitEntities: EntitySchema[] = [
  JitUserEntity,
  JitIdentityEntity,
  JitAuditEventEntity,
  JitTenantEntity,
  JitSingleUseEntity,
  ...scimDirectoryEntities,
  ...outboxEntities,
  ...configurationEntities,
  ...signInTraceEntities,
] as EntitySchema[];

export type JitDialect = 'sqlite' | 'postgres' | 'mysql';

/**
 * `jitEntities` as a dialect's migrations create them: on MySQL/MariaDB the SCIM resources keep
 * their JSON in `mediumtext` (`text` there ends at 64 KiB). Schema tools (`migration:generate`,
 * `synchronize`) compare the database with these.
 */
export function jitEntitiesFor(dialect: JitDialect): EntitySchema[] {
  if (dialect !== 'mysql') return [...jitEntities];
  return [...jitEntities.filter((e) => !scimDirectoryEntities.includes(e)), ...scimDirectoryEntitiesMysql];
}

type MigrationClass = new () => MigrationInterface;

const migrations: Record<JitDialect, MigrationClass[]> = {
  sqlite: [
    JitInitSqlite1795439311928,
    ScimDirectorySqlite1795439937548,
    ScimListsAndMembersSqlite1795500000000,
    ScimMemberKeysSqlite1796554028010,
    JitSingleUsesSqlite1796587449098,
    ScimGroupMemberCountsSqlite1796600000000,
    JitOutboxSqlite1797100000000,
    JitConfigurationSqlite1797200000000,
    ScimCountSlotsSqlite1797300000000,
    JitSignInTracesSqlite1797400000000,
  ],
  postgres: [
    JitInitPostgres1795439311928,
    ScimDirectoryPostgres1795439937548,
    ScimListsAndMembersPostgres1795500000000,
    ScimMemberKeysPostgres1796554028010,
    JitSingleUsesPostgres1796587449098,
    ScimGroupMemberCountsPostgres1796600000000,
    JitOutboxPostgres1797100000000,
    JitConfigurationPostgres1797200000000,
    ScimCountSlotsPostgres1797300000000,
    JitSignInTracesPostgres1797400000000,
  ],
  mysql: [
    JitInitMysql1795439311928,
    ScimDirectoryMysql1795439937548,
    ScimListsAndMembersMysql1795500000000,
    ScimMemberKeysMysql1796554028010,
    JitSingleUsesMysql1796587449098,
    ScimGroupMemberCountsMysql1796600000000,
    ScimLargeResourcesMysql1797000000000,
    JitOutboxMysql1797100000000,
    JitConfigurationMysql1797200000000,
    ScimCountSlotsMysql1797300000000,
    JitSignInTracesMysql1797400000000,
  ],
};

/** The migration classes for a dialect, oldest first, to list in the DataSource `migrations`. */
export function jitMigrations(dialect: JitDialect): MigrationClass[] {
  const list = migrations[dialect];
  if (!list) throw new TypeError(`Unknown dialect "${String(dialect)}": use sqlite, postgres or mysql.`);
  return [...list];
}
