import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Moves the directories' resource counts from two columns of their row to `jit_scim_counts` (the
 * table changes as TypeORM generates them from the entities, sqlite): each count becomes slot 0 of
 * its directory and type, so that concurrent writes no longer all lock the directory's row.
 */
export class ScimCountSlotsSqlite1797300000000 implements MigrationInterface {
  name = 'ScimCountSlotsSqlite1797300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "jit_scim_counts" ("directory_id" varchar(36) NOT NULL, "type" varchar(8) NOT NULL, "slot" integer NOT NULL, "n" integer NOT NULL, PRIMARY KEY ("directory_id", "type", "slot"))`,
    );
    await queryRunner.query(
      `INSERT INTO "jit_scim_counts" ("directory_id", "type", "slot", "n") ` +
        `SELECT "id", 'User', 0, "user_count" FROM "jit_scim_directories" UNION ALL ` +
        `SELECT "id", 'Group', 0, "group_count" FROM "jit_scim_directories"`,
    );
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_directories_tenant"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_jit_scim_directories" ("id" varchar(36) PRIMARY KEY NOT NULL, "tenant_id" varchar(128) NOT NULL, "name" varchar(255) NOT NULL, "connection_id" varchar(128), "created_at" bigint NOT NULL)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_jit_scim_directories"("id", "tenant_id", "name", "connection_id", "created_at") SELECT "id", "tenant_id", "name", "connection_id", "created_at" FROM "jit_scim_directories"`,
    );
    await queryRunner.query(`DROP TABLE "jit_scim_directories"`);
    await queryRunner.query(`ALTER TABLE "temporary_jit_scim_directories" RENAME TO "jit_scim_directories"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_directories_tenant" ON "jit_scim_directories" ("tenant_id") `,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const sum = (type: string) =>
      `COALESCE((SELECT SUM(c."n") FROM "jit_scim_counts" c WHERE c."directory_id" = d."id" AND c."type" = '${type}'), 0)`;
    await queryRunner.query(`DROP INDEX "IDX_jit_scim_directories_tenant"`);
    await queryRunner.query(`ALTER TABLE "jit_scim_directories" RENAME TO "temporary_jit_scim_directories"`);
    await queryRunner.query(
      `CREATE TABLE "jit_scim_directories" ("id" varchar(36) PRIMARY KEY NOT NULL, "tenant_id" varchar(128) NOT NULL, "name" varchar(255) NOT NULL, "connection_id" varchar(128), "created_at" bigint NOT NULL, "user_count" integer NOT NULL DEFAULT (0), "group_count" integer NOT NULL DEFAULT (0))`,
    );
    await queryRunner.query(
      `INSERT INTO "jit_scim_directories"("id", "tenant_id", "name", "connection_id", "created_at", "user_count", "group_count") ` +
        `SELECT d."id", d."tenant_id", d."name", d."connection_id", d."created_at", ${sum('User')}, ${sum('Group')} FROM "temporary_jit_scim_directories" d`,
    );
    await queryRunner.query(`DROP TABLE "temporary_jit_scim_directories"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_jit_scim_directories_tenant" ON "jit_scim_directories" ("tenant_id") `,
    );
    await queryRunner.query(`DROP TABLE "jit_scim_counts"`);
  }
}
