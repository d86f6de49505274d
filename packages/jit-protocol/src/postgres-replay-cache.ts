import { createHash } from 'node:crypto';
import { ConfigurationError, StoreError } from '@jit-sso/core';
import type { ReplayCache, ReplayCacheOptions } from './replay-cache.js';

/** The subset of a `pg` Pool (or Client) the cache uses. */
export interface PgQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A replay cache in PostgreSQL, for apps without Redis: one row per key, unique by primary key, so a
 * key is taken by exactly one of any number of concurrent callers in any number of processes.
 * Call `ensureTable()` once at start-up (or create the table with `tableSql()` in a migration).
 * Expired rows are reused in place and can be purged with `purgeExpired()`.
 */
export class PostgresReplayCache implements ReplayCache {
  private readonly requestTtlMs: number;
  private readonly table: string;

  constructor(
    private readonly db: PgQueryable,
    options: ReplayCacheOptions & { table?: string } = {},
  ) {
    const table = options.table ?? 'jit_sso_replay';
    if (!IDENTIFIER.test(table)) throw new ConfigurationError(`"${table}" is not a valid table name.`);
    this.table = table;
    this.requestTtlMs = options.requestTtlMs ?? 10 * 60_000;
  }

  tableSql(): string {
    return `CREATE TABLE IF NOT EXISTS ${this.table} (key text PRIMARY KEY, value text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL)`;
  }

  async ensureTable(): Promise<void> {
    await this.run(this.tableSql());
  }

  async purgeExpired(): Promise<number> {
    const { rows } = await this.run(
      `WITH gone AS (DELETE FROM ${this.table} WHERE expires_at <= now() RETURNING 1) SELECT count(*)::int AS n FROM gone`,
    );
    return Number(rows[0]?.['n'] ?? 0);
  }

  private async run(sql: string, params?: unknown[]) {
    try {
      return await this.db.query(sql, params);
    } catch (error) {
      throw new StoreError('The replay cache (PostgreSQL) did not answer during sign-in.', error);
    }
  }

  /** Takes `key` for `ttlMs` unless a live row holds it; true when this caller took it. */
  private async take(key: string, value: string, ttlMs: number): Promise<Date | null> {
    const { rows } = await this.run(
      `INSERT INTO ${this.table} (key, value, created_at, expires_at) VALUES ($1, $2, now(), now() + $3 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at, expires_at = excluded.expires_at
       WHERE ${this.table}.expires_at <= now()
       RETURNING created_at`,
      [key, value, Math.ceil(ttlMs)],
    );
    return rows.length ? (rows[0]!['created_at'] as Date) : null;
  }

  async saveAsync(key: string, value: string) {
    const createdAt = await this.take(`req:${key}`, value, this.requestTtlMs);
    return createdAt ? { value, createdAt: createdAt.getTime() } : null;
  }

  async getAsync(key: string) {
    const { rows } = await this.run(`SELECT value FROM ${this.table} WHERE key = $1 AND expires_at > now()`, [
      `req:${key}`,
    ]);
    return (rows[0]?.['value'] as string | undefined) ?? null;
  }

  async removeAsync(key: string | null) {
    if (key === null) return null;
    const { rows } = await this.run(
      `DELETE FROM ${this.table} WHERE key = $1 AND expires_at > now() RETURNING value`,
      [`req:${key}`],
    );
    return (rows[0]?.['value'] as string | undefined) ?? null;
  }

  async consume(key: string, ttlMs: number) {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0)
      throw new ConfigurationError('A replay TTL must be a positive number of milliseconds.');
    return (
      (await this.take(`used:${createHash('sha256').update(key).digest('base64url')}`, '1', ttlMs)) !== null
    );
  }
}
