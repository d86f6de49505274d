import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Moves the directories' resource counts from two columns of their row to `jit_scim_counts` (the
 * table as TypeORM generates it from the entities, postgres): each count becomes slot 0 of its
 * directory and type, so that concurrent writes no longer all lock the directory's row.
 */
export class ScimCountSlotsPostgres1797300000000 implements MigrationInterface {
  name = 'ScimCountSlotsPostgres1797300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "jit_scim_counts" ("directory_id" character varying(36) NOT NULL, "type" character varying(8) NOT NULL, "slot" integer NOT NULL, "n" integer NOT NULL, CONSTRAINT "PK_44b23b5670c3aa1b9b6d46764e8" PRIMARY KEY ("directory_id", "type", "slot"))`,
    );
    await queryRunner.query(
      `INSERT INTO "jit_scim_counts" ("directory_id", "type", "slot", "n") ` +
        `SELECT "id", 'User', 0, "user_count" FROM "jit_scim_directories" UNION ALL ` +
        `SELECT "id", 'Group', 0, "group_count" FROM "jit_scim_directories"`,
    );
    await queryRunner.query(`ALTER TABLE "jit_scim_directories" DROP COLUMN "user_count"`);
    await queryRunner.query(`ALTER TABLE "jit_scim_directories" DROP COLUMN "group_count"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "jit_scim_directories" ADD "user_count" integer NOT NULL DEFAULT '0'`,
    );
    await queryRunner.query(
      `ALTER TABLE "jit_scim_directories" ADD "group_count" integer NOT NULL DEFAULT '0'`,
    );
    for (const [column, type] of [
      ['user_count', 'User'],
      ['group_count', 'Group'],
    ]) {
      await queryRunner.query(
        `UPDATE "jit_scim_directories" d SET "${column}" = ` +
          `COALESCE((SELECT SUM(c."n") FROM "jit_scim_counts" c WHERE c."directory_id" = d."id" AND c."type" = '${type}'), 0)`,
      );
    }
    await queryRunner.query(`DROP TABLE "jit_scim_counts"`);
  }
}
