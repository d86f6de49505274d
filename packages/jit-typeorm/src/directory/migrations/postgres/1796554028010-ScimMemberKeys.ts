import type { MigrationInterface, QueryRunner } from 'typeorm';
import { fillMemberKeys } from '../backfill.js';

/**
 * Adds the members' lower-cased ids and indexes on (directory, member key) and (directory, display
 * key), so that membership filters search one directory's rows by index (the table changes as
 * TypeORM generates them from the entities, postgres), filled from what is stored.
 */
export class ScimMemberKeysPostgres1796554028010 implements MigrationInterface {
  name = 'ScimMemberKeysPostgres1796554028010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jit_scim_members" ADD "member_key" character varying(36)`);
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_members_directory_member" ON "jit_scim_members"  ("directory_id", "member_key") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_members_directory_display" ON "jit_scim_members"  ("directory_id", "display_key") `,
    );
    await fillMemberKeys(
      queryRunner,
      (name) => `"${name}"`,
      (n) => `$${n}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_jit_scim_members_directory_display"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_jit_scim_members_directory_member"`);
    await queryRunner.query(`ALTER TABLE "jit_scim_members" DROP COLUMN "member_key"`);
  }
}
