import type { MigrationInterface, QueryRunner } from 'typeorm';
import { fillMemberDisplayKeys } from '../backfill.js';

/**
 * Adds the directories' resource counts and the members' lower-cased display names (the table
 * changes as TypeORM generates them from the entities, mysql), filled from what is stored.
 */
export class ScimListsAndMembersMysql1795500000000 implements MigrationInterface {
  name = 'ScimListsAndMembersMysql1795500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE \`jit_scim_directories\` ADD \`user_count\` int NOT NULL DEFAULT '0'`,
    );
    await queryRunner.query(
      `ALTER TABLE \`jit_scim_directories\` ADD \`group_count\` int NOT NULL DEFAULT '0'`,
    );
    await queryRunner.query(
      `UPDATE \`jit_scim_directories\` d SET ` +
        `\`user_count\` = (SELECT COUNT(*) FROM \`jit_scim_resources\` r WHERE r.\`directory_id\` = d.\`id\` AND r.\`type\` = 'User'), ` +
        `\`group_count\` = (SELECT COUNT(*) FROM \`jit_scim_resources\` r WHERE r.\`directory_id\` = d.\`id\` AND r.\`type\` = 'Group')`,
    );
    await queryRunner.query(`ALTER TABLE \`jit_scim_members\` ADD \`display_key\` varchar(256) NULL`);
    await fillMemberDisplayKeys(
      queryRunner,
      (name) => `\`${name}\``,
      () => '?',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`jit_scim_members\` DROP COLUMN \`display_key\``);
    await queryRunner.query(`ALTER TABLE \`jit_scim_directories\` DROP COLUMN \`group_count\``);
    await queryRunner.query(`ALTER TABLE \`jit_scim_directories\` DROP COLUMN \`user_count\``);
  }
}
