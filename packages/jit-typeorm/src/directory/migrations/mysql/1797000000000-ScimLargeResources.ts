import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keeps SCIM resources in `mediumtext`: MySQL's and MariaDB's `text` ends at 64 KiB, below the
 * SCIM service's resource limit (the change as TypeORM generates it from the entities, mysql).
 */
export class ScimLargeResourcesMysql1797000000000 implements MigrationInterface {
  name = 'ScimLargeResourcesMysql1797000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`jit_scim_resources\` MODIFY \`data\` mediumtext NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // In strict mode MySQL refuses this while a resource is over 64 KiB, rather than cut it.
    await queryRunner.query(`ALTER TABLE \`jit_scim_resources\` MODIFY \`data\` text NOT NULL`);
  }
}
