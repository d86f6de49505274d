import type { MigrationInterface, QueryRunner } from 'typeorm';
import { fillMemberKeys } from '../backfill.js';

/**
 * Adds the members' lower-cased ids and indexes on (directory, member key) and (directory, display
 * key), so that membership filters search one directory's rows by index (the table changes as
 * TypeORM generates them from the entities, sqlite), filled from what is stored.
 */
export class ScimMemberKeysSqlite1796554028010 implements MigrationInterface {
  name = 'ScimMemberKeysSqlite1796554028010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_members_member"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_jit_scim_members" ("group_id" varchar(36) NOT NULL, "member_id" varchar(36) NOT NULL, "directory_id" varchar(36) NOT NULL, "display" varchar(256), "display_key" varchar(256), "member_key" varchar(36), PRIMARY KEY ("group_id", "member_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_jit_scim_members"("group_id", "member_id", "directory_id", "display", "display_key") SELECT "group_id", "member_id", "directory_id", "display", "display_key" FROM "jit_scim_members"`,
    );
    await queryRunner.query(`DROP TABLE "jit_scim_members"`);
    await queryRunner.query(`ALTER TABLE "temporary_jit_scim_members" RENAME TO "jit_scim_members"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_members_member" ON "jit_scim_members" ("member_id", "directory_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_members_directory_member" ON "jit_scim_members" ("directory_id", "member_key") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_members_directory_display" ON "jit_scim_members" ("directory_id", "display_key") `,
    );
    await fillMemberKeys(
      queryRunner,
      (name) => `"${name}"`,
      () => '?',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_members_directory_display"`);
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_members_directory_member"`);
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_members_member"`);
    await queryRunner.query(`ALTER TABLE "jit_scim_members" RENAME TO "temporary_jit_scim_members"`);
    await queryRunner.query(
      `CREATE TABLE "jit_scim_members" ("group_id" varchar(36) NOT NULL, "member_id" varchar(36) NOT NULL, "directory_id" varchar(36) NOT NULL, "display" varchar(256), "display_key" varchar(256), PRIMARY KEY ("group_id", "member_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "jit_scim_members"("group_id", "member_id", "directory_id", "display", "display_key") SELECT "group_id", "member_id", "directory_id", "display", "display_key" FROM "temporary_jit_scim_members"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_jit_scim_members"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_members_member" ON "jit_scim_members" ("member_id", "directory_id") `,
    );
  }
}
