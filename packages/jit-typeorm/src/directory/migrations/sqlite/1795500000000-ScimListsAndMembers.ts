import type { MigrationInterface, QueryRunner } from 'typeorm';
import { fillMemberDisplayKeys } from '../backfill.js';

/**
 * Adds the directories' resource counts and the members' lower-cased display names (the table
 * changes as TypeORM generates them from the entities, sqlite), filled from what is stored.
 */
export class ScimListsAndMembersSqlite1795500000000 implements MigrationInterface {
  name = 'ScimListsAndMembersSqlite1795500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_directories_tenant"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_jit_scim_directories" ("id" varchar(36) PRIMARY KEY NOT NULL, "tenant_id" varchar(128) NOT NULL, "name" varchar(255) NOT NULL, "connection_id" varchar(128), "created_at" bigint NOT NULL, "user_count" integer NOT NULL DEFAULT (0), "group_count" integer NOT NULL DEFAULT (0))`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_jit_scim_directories"("id", "tenant_id", "name", "connection_id", "created_at", "user_count", "group_count") ` +
        `SELECT d."id", d."tenant_id", d."name", d."connection_id", d."created_at", ` +
        `(SELECT COUNT(*) FROM "jit_scim_resources" r WHERE r."directory_id" = d."id" AND r."type" = 'User'), ` +
        `(SELECT COUNT(*) FROM "jit_scim_resources" r WHERE r."directory_id" = d."id" AND r."type" = 'Group') ` +
        `FROM "jit_scim_directories" d`,
    );
    await queryRunner.query(`DROP TABLE "jit_scim_directories"`);
    await queryRunner.query(`ALTER TABLE "temporary_jit_scim_directories" RENAME TO "jit_scim_directories"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_directories_tenant" ON "jit_scim_directories" ("tenant_id") `,
    );
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_members_member"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_jit_scim_members" ("group_id" varchar(36) NOT NULL, "member_id" varchar(36) NOT NULL, "directory_id" varchar(36) NOT NULL, "display" varchar(256), "display_key" varchar(256), PRIMARY KEY ("group_id", "member_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_jit_scim_members"("group_id", "member_id", "directory_id", "display") SELECT "group_id", "member_id", "directory_id", "display" FROM "jit_scim_members"`,
    );
    await queryRunner.query(`DROP TABLE "jit_scim_members"`);
    await queryRunner.query(`ALTER TABLE "temporary_jit_scim_members" RENAME TO "jit_scim_members"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_members_member" ON "jit_scim_members" ("member_id", "directory_id") `,
    );
    await fillMemberDisplayKeys(
      queryRunner,
      (name) => `"${name}"`,
      () => '?',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_members_member"`);
    await queryRunner.query(`ALTER TABLE "jit_scim_members" RENAME TO "temporary_jit_scim_members"`);
    await queryRunner.query(
      `CREATE TABLE "jit_scim_members" ("group_id" varchar(36) NOT NULL, "member_id" varchar(36) NOT NULL, "directory_id" varchar(36) NOT NULL, "display" varchar(256), PRIMARY KEY ("group_id", "member_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "jit_scim_members"("group_id", "member_id", "directory_id", "display") SELECT "group_id", "member_id", "directory_id", "display" FROM "temporary_jit_scim_members"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_jit_scim_members"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_members_member" ON "jit_scim_members" ("member_id", "directory_id") `,
    );
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_directories_tenant"`);
    await queryRunner.query(`ALTER TABLE "jit_scim_directories" RENAME TO "temporary_jit_scim_directories"`);
    await queryRunner.query(
      `CREATE TABLE "jit_scim_directories" ("id" varchar(36) PRIMARY KEY NOT NULL, "tenant_id" varchar(128) NOT NULL, "name" varchar(255) NOT NULL, "connection_id" varchar(128), "created_at" bigint NOT NULL)`,
    );
    await queryRunner.query(
      `INSERT INTO "jit_scim_directories"("id", "tenant_id", "name", "connection_id", "created_at") SELECT "id", "tenant_id", "name", "connection_id", "created_at" FROM "temporary_jit_scim_directories"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_jit_scim_directories"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_directories_tenant" ON "jit_scim_directories" ("tenant_id") `,
    );
  }
}
