import type { QueryRunner } from 'typeorm';

type Quote = (name: string) => string;
type Placeholder = (n: number) => string;

/**
 * Fills a key column of `jit_scim_members` with another column lower-cased in JavaScript, as the
 * store writes it (SQLite's `lower()` folds ASCII only), row by row.
 */
async function fillLowerCased(
  queryRunner: QueryRunner,
  quote: Quote,
  placeholder: Placeholder,
  source: 'display' | 'member_id',
  target: 'display_key' | 'member_key',
): Promise<void> {
  const rows = (await queryRunner.query(
    `SELECT ${quote('group_id')}, ${quote('member_id')}, ${quote(source)} AS ${quote('source')} FROM ${quote('jit_scim_members')} WHERE ${quote(source)} IS NOT NULL`,
  )) as Array<{ group_id: string; member_id: string; source: string }>;
  for (const row of rows) {
    await queryRunner.query(
      `UPDATE ${quote('jit_scim_members')} SET ${quote(target)} = ${placeholder(1)} WHERE ${quote('group_id')} = ${placeholder(2)} AND ${quote('member_id')} = ${placeholder(3)}`,
      [row.source.toLowerCase(), row.group_id, row.member_id],
    );
  }
}

/** Fills `jit_scim_members.display_key`: what `members.display` filters compare. */
export const fillMemberDisplayKeys = (queryRunner: QueryRunner, quote: Quote, placeholder: Placeholder) =>
  fillLowerCased(queryRunner, quote, placeholder, 'display', 'display_key');

/** Fills `jit_scim_members.member_key`: what `members.value` filters compare. */
export const fillMemberKeys = (queryRunner: QueryRunner, quote: Quote, placeholder: Placeholder) =>
  fillLowerCased(queryRunner, quote, placeholder, 'member_id', 'member_key');
