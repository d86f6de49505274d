import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Adds each group's member count (the column as TypeORM generates it from the entities, mysql),
 * filled from what is stored: the total of `groups.value eq` is read there rather than counted.
 */
export class ScimGroupMemberCountsMysql1796600000000 implements MigrationInterface {
  name = 'ScimGroupMemberCountsMysql1796600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`jit_scim_resources\` ADD \`member_count\` int NULL`);
    await queryRunner.query(
      `UPDATE \`jit_scim_resources\` SET \`member_count\` = ` +
        `(SELECT COUNT(*) FROM \`jit_scim_members\` m WHERE m.\`group_id\` = \`jit_scim_resources\`.\`id\`) ` +
        `WHERE \`type\` = 'Group'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`jit_scim_resources\` DROP COLUMN \`member_count\``);
  }
}
