import type { QueryRunner } from 'typeorm';

/**
 * Fills `jit_scim_members.display_key` with each display name lower-cased in JavaScript (SQLite's
 * `lower()` folds ASCII only), as the store writes it.
 */
export async function fillMemberDisplayKeys(
  queryRunner: QueryRunner,
  quote: (name: string) => string,
  placeholder: (n: number) => string,
): Promise<void> {
  const rows = (await queryRunner.query(
    `SELECT ${quote('group_id')}, ${quote('member_id')}, ${quote('display')} FROM ${quote('jit_scim_members')} WHERE ${quote('display')} IS NOT NULL`,
  )) as Array<{ group_id: string; member_id: string; display: string }>;
  for (const row of rows) {
    await queryRunner.query(
      `UPDATE ${quote('jit_scim_members')} SET ${quote('display_key')} = ${placeholder(1)} WHERE ${quote('group_id')} = ${placeholder(2)} AND ${quote('member_id')} = ${placeholder(3)}`,
      [row.display.toLowerCase(), row.group_id, row.member_id],
    );
  }
}
