import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Moves the directories' resource counts from two columns of their row to `jit_scim_counts` (the
 * table as TypeORM generates it from the entities, mysql): each count becomes slot 0 of its
 * directory and type, so that concurrent writes no longer all lock the directory's row.
 */
export class ScimCountSlotsMysql1797300000000 implements MigrationInterface {
  name = 'ScimCountSlotsMysql1797300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE \`jit_scim_counts\` (\`directory_id\` varchar(36) NOT NULL, \`type\` varchar(8) NOT NULL, \`slot\` int NOT NULL, \`n\` int NOT NULL, PRIMARY KEY (\`directory_id\`, \`type\`, \`slot\`)) ENGINE=InnoDB`,
    );
    await queryRunner.query(
      `INSERT INTO \`jit_scim_counts\` (\`directory_id\`, \`type\`, \`slot\`, \`n\`) ` +
        `SELECT \`id\`, 'User', 0, \`user_count\` FROM \`jit_scim_directories\` UNION ALL ` +
        `SELECT \`id\`, 'Group', 0, \`group_count\` FROM \`jit_scim_directories\``,
    );
    await queryRunner.query(`ALTER TABLE \`jit_scim_directories\` DROP COLUMN \`user_count\``);
    await queryRunner.query(`ALTER TABLE \`jit_scim_directories\` DROP COLUMN \`group_count\``);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`jit_scim_directories\` ADD \`user_count\` int NOT NULL DEFAULT 0`);
    await queryRunner.query(
      `ALTER TABLE \`jit_scim_directories\` ADD \`group_count\` int NOT NULL DEFAULT 0`,
    );
    for (const [column, type] of [
      ['user_count', 'User'],
      ['group_count', 'Group'],
    ]) {
      await queryRunner.query(
        `UPDATE \`jit_scim_directories\` d SET d.\`${column}\` = ` +
          `COALESCE((SELECT SUM(c.\`n\`) FROM \`jit_scim_counts\` c WHERE c.\`directory_id\` = d.\`id\` AND c.\`type\` = '${type}'), 0)`,
      );
    }
    await queryRunner.query(`DROP TABLE \`jit_scim_counts\``);
  }
}
