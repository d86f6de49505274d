import { EntitySchema } from 'typeorm';
import { epochMillis } from '../columns.js';

/**
 * The SCIM directory tables (`jit_scim_*`). No foreign keys: rows are removed by the store in the
 * same transaction as what they belong to, and apps may reset tables in any order.
 *
 * Filters run on `jit_scim_values`: one row per simple value of a resource's stored JSON
 * (`emails.value` of element 0, `name.givenname`, `urn:…:user:employeenumber`), lower-cased, with a
 * 191-character indexed prefix, so that `eq`/`sw` use an index and `co`/`ew`/`gt`/… scan one
 * attribute of one directory, never every row.
 */

export interface ScimDirectoryRow {
  id: string;
  tenantId: string;
  name: string;
  connectionId: string | null;
  createdAt: Date;
}
export interface ScimCountRow {
  directoryId: string;
  type: string;
  slot: number;
  n: number;
}
export interface ScimTokenRow {
  id: string;
  directoryId: string;
  hash: string;
  label: string;
  createdAt: Date;
  revokedAt: Date | null;
}
export interface ScimResourceRow {
  id: string;
  directoryId: string;
  type: string;
  name: string;
  nameKey: string;
  userNameKey: string | null;
  externalId: string | null;
  data: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  memberCount: number | null;
}
export interface ScimMemberRow {
  groupId: string;
  memberId: string;
  directoryId: string;
  display: string | null;
  displayKey: string | null;
  memberKey: string | null;
}
export interface ScimValueRow {
  id: number;
  resourceId: string;
  directoryId: string;
  attr: string;
  attrTop: string;
  elem: number;
  kind: string;
  prefix: string | null;
  text: string | null;
  num: number | null;
}

export const PREFIX_LENGTH = 191;

export const ScimDirectoryEntity = new EntitySchema<ScimDirectoryRow>({
  name: 'JitScimDirectory',
  tableName: 'jit_scim_directories',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    tenantId: { name: 'tenant_id', type: 'varchar', length: 128 },
    name: { type: 'varchar', length: 255 },
    connectionId: { name: 'connection_id', type: 'varchar', length: 128, nullable: true },
    createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
  },
  indices: [{ name: 'IDX_jit_scim_directories_tenant', columns: ['tenantId'] }],
});

/**
 * How many User and Group resources each directory holds, kept in the transactions that insert
 * and delete them: a page of an unfiltered list reads its `totalResults` here (the sum of the
 * directory's slots) instead of counting the directory's index entries. A write moves one slot,
 * picked at random, so that concurrent creates and deletes of one directory lock different rows
 * rather than all waiting on one.
 */
export const ScimCountEntity = new EntitySchema<ScimCountRow>({
  name: 'JitScimCount',
  tableName: 'jit_scim_counts',
  columns: {
    directoryId: { name: 'directory_id', type: 'varchar', length: 36, primary: true },
    type: { type: 'varchar', length: 8, primary: true },
    slot: { type: 'integer', primary: true },
    n: { type: 'integer' },
  },
});

export const ScimTokenEntity = new EntitySchema<ScimTokenRow>({
  name: 'JitScimToken',
  tableName: 'jit_scim_tokens',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    directoryId: { name: 'directory_id', type: 'varchar', length: 36 },
    hash: { type: 'varchar', length: 64 },
    label: { type: 'varchar', length: 255 },
    createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
    revokedAt: { name: 'revoked_at', type: 'bigint', nullable: true, transformer: epochMillis },
  },
  indices: [
    { name: 'UQ_jit_scim_tokens_hash', columns: ['hash'], unique: true },
    { name: 'IDX_jit_scim_tokens_directory', columns: ['directoryId'] },
  ],
});

export const USER_NAME_INDEX = 'UQ_jit_scim_resources_user_name';

/**
 * The resources table. `data` holds the resource as JSON, up to the SCIM service's resource limit
 * (256 KiB): `text` on SQLite and PostgreSQL, `mediumtext` on MySQL/MariaDB, whose `text` ends at
 * 64 KiB.
 */
function resourceEntity(dataType: 'text' | 'mediumtext'): EntitySchema<ScimResourceRow> {
  return new EntitySchema<ScimResourceRow>({
    name: 'JitScimResource',
    tableName: 'jit_scim_resources',
    columns: {
      id: { type: 'varchar', length: 36, primary: true },
      directoryId: { name: 'directory_id', type: 'varchar', length: 36 },
      type: { type: 'varchar', length: 8 },
      name: { type: 'varchar', length: 256 },
      /** `name` lower-cased in JavaScript: filters and sorting compare it. */
      nameKey: { name: 'name_key', type: 'varchar', length: 256 },
      /** `name_key` for users only (NULL for groups): unique per directory. */
      userNameKey: { name: 'user_name_key', type: 'varchar', length: 256, nullable: true },
      externalId: { name: 'external_id', type: 'varchar', length: 256, nullable: true },
      data: { type: dataType },
      version: { type: 'integer' },
      createdAt: { name: 'created_at', type: 'bigint', transformer: epochMillis },
      updatedAt: { name: 'updated_at', type: 'bigint', transformer: epochMillis },
      /**
       * How many members a group has (NULL for users), kept by the transactions that add and remove
       * them: `groups.value eq "…"` reads its `totalResults` here instead of counting the group.
       */
      memberCount: { name: 'member_count', type: 'integer', nullable: true },
    },
    indices: [
      { name: USER_NAME_INDEX, columns: ['directoryId', 'userNameKey'], unique: true },
      { name: 'IDX_jit_scim_resources_name', columns: ['directoryId', 'type', 'nameKey'] },
      { name: 'IDX_jit_scim_resources_external', columns: ['directoryId', 'type', 'externalId'] },
      { name: 'IDX_jit_scim_resources_list', columns: ['directoryId', 'type', 'id'] },
    ],
  });
}

export const ScimResourceEntity = resourceEntity('text');
/** `ScimResourceEntity` as MySQL and MariaDB keep it (the same table and name). */
export const ScimResourceEntityMysql = resourceEntity('mediumtext');

export const ScimMemberEntity = new EntitySchema<ScimMemberRow>({
  name: 'JitScimMember',
  tableName: 'jit_scim_members',
  columns: {
    groupId: { name: 'group_id', type: 'varchar', length: 36, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 36, primary: true },
    directoryId: { name: 'directory_id', type: 'varchar', length: 36 },
    display: { type: 'varchar', length: 256, nullable: true },
    /** `display` lower-cased in JavaScript: `members.display` filters compare it. */
    displayKey: { name: 'display_key', type: 'varchar', length: 256, nullable: true },
    /** `member_id` lower-cased: `members.value` filters compare it (the schema says case-insensitive). */
    memberKey: { name: 'member_key', type: 'varchar', length: 36, nullable: true },
  },
  indices: [
    { name: 'IDX_jit_scim_members_member', columns: ['memberId', 'directoryId'] },
    // Membership filters search one directory's rows by member or by display name.
    { name: 'IDX_jit_scim_members_directory_member', columns: ['directoryId', 'memberKey'] },
    { name: 'IDX_jit_scim_members_directory_display', columns: ['directoryId', 'displayKey'] },
  ],
});

export const ScimValueEntity = new EntitySchema<ScimValueRow>({
  name: 'JitScimValue',
  tableName: 'jit_scim_values',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    resourceId: { name: 'resource_id', type: 'varchar', length: 36 },
    directoryId: { name: 'directory_id', type: 'varchar', length: 36 },
    attr: { type: 'varchar', length: 160 },
    attrTop: { name: 'attr_top', type: 'varchar', length: 160 },
    elem: { type: 'integer' },
    /** `s` string, `n` number, `b` boolean (in `num` as 0/1). */
    kind: { type: 'varchar', length: 1 },
    prefix: { type: 'varchar', length: PREFIX_LENGTH, nullable: true },
    text: { type: 'text', nullable: true },
    num: { type: 'double precision', nullable: true },
  },
  indices: [
    { name: 'IDX_jit_scim_values_text', columns: ['directoryId', 'attr', 'prefix'] },
    { name: 'IDX_jit_scim_values_resource', columns: ['resourceId', 'attr'] },
  ],
});

export const scimDirectoryEntities = [
  ScimDirectoryEntity,
  ScimTokenEntity,
  ScimResourceEntity,
  ScimMemberEntity,
  ScimValueEntity,
  ScimCountEntity,
] as EntitySchema[];

/** `scimDirectoryEntities` for MySQL and MariaDB. */
export const scimDirectoryEntitiesMysql = scimDirectoryEntities.map((e) =>
  e === ScimResourceEntity ? ScimResourceEntityMysql : e,
) as EntitySchema[];
