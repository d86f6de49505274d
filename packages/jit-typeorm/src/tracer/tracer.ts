import type { DataSource } from 'typeorm';
import {
  consoleLogger,
  defaultRedaction,
  describeError,
  redactAttributes,
  StoreError,
  uuidv7,
  type JitLogger,
  type Redaction,
  type SignInAttempt,
  type SignInTracer,
  type SignInTracerOptions,
  type SsoProfile,
  type TracedAttempt,
} from '@jit-sso/core';
import { openDatabase, type Database, type Row } from '../sql.js';
import { JitSignInTraceEntity } from './schema.js';

export interface TypeormSignInTracerOptions extends SignInTracerOptions {
  /**
   * Prune a connection's attempts (past the retention, past `perConnection`) on every this many
   * writes of it in this process, the first included; default 10. Rows a connection holds stay below
   * `perConnection` plus this many per copy of the app; reads never show more than `perConnection`.
   */
  pruneEvery?: number;
  /** Drop attempts past the retention, every connection's, at most this often per process; default 1 minute. */
  pruneIntervalMs?: number;
  /** Attempts waiting to be written past which new ones are dropped (and logged); default 1,000. */
  maxQueued?: number;
  /** Where failed writes are reported (they never reach the login); default the console. */
  logger?: JitLogger;
}

/** Bounds on what one attempt stores, so that a row fits a MySQL `text` column (64 KiB). */
const MAX_VALUE = 256;
const MAX_VALUES = 50;
const MAX_ATTRIBUTES_CHARS = 15_000;
const MAX_SUBJECT = 512;

interface Statements {
  insert: string;
  boundary: string;
  pruneConnection: string;
  pruneAll: string;
  list: string;
  lastProfile: string;
}

function statements(db: Database): Statements {
  const q = db.quote;
  const t = q('jit_sign_in_traces');
  const columns = [
    'id',
    'connection_id',
    'tenant_id',
    'at',
    'subject',
    'outcome',
    'ok',
    'hint',
    'roles',
    'test',
    'attributes',
    'profile',
  ];
  const newest = `ORDER BY ${q('at')} DESC, ${q('id')} DESC`;
  return {
    insert: `INSERT INTO ${t} (${columns.map(q).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    boundary: `SELECT ${q('at')}, ${q('id')} FROM ${t} WHERE ${q('connection_id')} = ? ${newest} ${db.limit(true)}`,
    pruneConnection: `DELETE FROM ${t} WHERE ${q('connection_id')} = ? AND (${q('at')} < ? OR (${q('at')} = ? AND ${q('id')} <= ?))`,
    pruneAll: `DELETE FROM ${t} WHERE ${q('at')} < ?`,
    list: `SELECT * FROM ${t} WHERE ${q('connection_id')} = ? AND ${q('at')} >= ? ${newest} ${db.limit()}`,
    lastProfile: `SELECT * FROM ${t} WHERE ${q('connection_id')} = ? AND ${q('at')} >= ? AND ${q('profile')} IS NOT NULL ${newest} ${db.limit()}`,
  };
}

const flag = (value: unknown) => value === true || Number(value) === 1;
const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;
const clip = (value: string, max: number) => (value.length > max ? `${value.slice(0, max - 1)}…` : value);

/** The redacted attributes, each value and list clipped and the whole bounded. */
function bounded(attributes: Record<string, string[]>): Record<string, string[]> {
  const kept: Record<string, string[]> = {};
  let size = 2;
  let left = 0;
  for (const [name, values] of Object.entries(attributes)) {
    const shown = values.slice(0, MAX_VALUES).map((v) => clip(v, MAX_VALUE));
    if (values.length > MAX_VALUES) shown.push(`… ${values.length - MAX_VALUES} more`);
    const cost = JSON.stringify([clip(name, MAX_VALUE), shown]).length;
    if (size + cost > MAX_ATTRIBUTES_CHARS) {
      left++;
      continue;
    }
    kept[clip(name, MAX_VALUE)] = shown;
    size += cost;
  }
  if (left) kept['…'] = [`${left} more attributes not kept`];
  return kept;
}

interface Kept {
  attempt: TracedAttempt;
  profile: SsoProfile | null;
}

function keptOf(row: Row): Kept {
  const attributes = json<Record<string, string[]>>(row['attributes']);
  const meta = row['profile'] == null ? null : json<NonNullable<Row>>(row['profile']);
  const attempt: TracedAttempt = Object.freeze({
    at: new Date(Number(row['at'])),
    connectionId: String(row['connection_id']),
    tenantId: row['tenant_id'] == null ? null : String(row['tenant_id']),
    subject: row['subject'] == null ? null : String(row['subject']),
    outcome: String(row['outcome']),
    ok: flag(row['ok']),
    hint: row['hint'] == null ? null : String(row['hint']),
    roles: row['roles'] == null ? null : json<string[]>(row['roles']),
    test: flag(row['test']),
    attributes,
  });
  const profile: SsoProfile | null = meta
    ? {
        protocol: meta['protocol'] as SsoProfile['protocol'],
        issuer: String(meta['issuer']),
        subject: attempt.subject ?? '',
        subjectFormat: (meta['subjectFormat'] as string | null) ?? null,
        emailVerified: (meta['emailVerified'] as boolean | null) ?? null,
        attributes,
      }
    : null;
  return { attempt, profile };
}

/**
 * The sign-in tracer in the database (`jit_sign_in_traces`), shared by every copy of the app: each
 * connection's recent attempts, attribute values redacted by the policy before they are written,
 * kept for `retentionMs` and at most `perConnection` (pruned as attempts are written, no job to run).
 *
 * `record` never waits for the database and never throws: attempts are written in the background,
 * one at a time, and a failed write is logged, so the tracer can neither fail nor slow a login.
 * Mapping previews (`lastProfile`) see the stored values, redacted as the tracer shows them.
 */
export class TypeormSignInTracer implements SignInTracer {
  private prepared: { db: Database; s: Statements } | undefined;
  private readonly retentionMs: number;
  private readonly perConnection: number;
  private readonly redact: (name: string, values: readonly string[]) => Redaction;
  private readonly now: () => Date;
  private readonly pruneEvery: number;
  private readonly pruneIntervalMs: number;
  private readonly maxQueued: number;
  private readonly logger: JitLogger;
  private readonly writes = new Map<string, number>();
  private lastPruneAll = -Infinity;
  private queued = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    options: TypeormSignInTracerOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
    this.perConnection = Math.max(1, options.perConnection ?? 100);
    this.redact = options.redact ?? defaultRedaction;
    this.now = options.now ?? (() => new Date());
    this.pruneEvery = Math.max(1, options.pruneEvery ?? 10);
    this.pruneIntervalMs = options.pruneIntervalMs ?? 60_000;
    this.maxQueued = options.maxQueued ?? 1000;
    this.logger = options.logger ?? consoleLogger;
  }

  private get ready(): { db: Database; s: Statements } {
    if (this.prepared) return this.prepared;
    if (!this.dataSource.isInitialized) {
      throw new StoreError('The DataSource is not initialised: call dataSource.initialize() first.');
    }
    if (!this.dataSource.hasMetadata(JitSignInTraceEntity)) {
      throw new StoreError(
        'The DataSource has no sign-in trace table: add jitEntities to its entities and run the migrations.',
      );
    }
    const db = openDatabase(this.dataSource, () => 'other');
    this.prepared = { db, s: statements(db) };
    return this.prepared;
  }

  /** Plug into the provisioner's `onSignInAttempt`. Returns at once; the write follows. */
  readonly record = (attempt: SignInAttempt): void => {
    let row: unknown[];
    try {
      if (this.queued >= this.maxQueued) {
        this.fail(
          new StoreError(`More than ${this.maxQueued} sign-in attempts wait to be traced.`),
          'dropped',
        );
        return;
      }
      row = this.rowOf(attempt);
    } catch (error) {
      this.fail(error, 'dropped');
      return;
    }
    this.queued++;
    // One write at a time: the tracer never takes more than one of the pool's connections.
    this.tail = this.tail
      .then(() => this.write(attempt.connectionId, row))
      .catch((error: unknown) => this.fail(error, 'lost'))
      .finally(() => {
        this.queued--;
      });
  };

  /** Resolves when every attempt recorded so far is written (or failed): for tests and shutdown. */
  async flush(): Promise<void> {
    while (this.queued > 0) await this.tail;
  }

  async list(connectionId: string, limit = 50): Promise<TracedAttempt[]> {
    const { db, s } = this.ready;
    const n = Math.min(Math.max(1, Math.floor(limit)), this.perConnection);
    const rows = await db.sql.rows(s.list, [connectionId, this.cutoff(), n]);
    return rows.map((row) => keptOf(row).attempt);
  }

  async lastProfile(connectionId: string): Promise<{ at: Date; profile: SsoProfile } | null> {
    const { db, s } = this.ready;
    const [row] = await db.sql.rows(s.lastProfile, [connectionId, this.cutoff(), 1]);
    if (!row) return null;
    const kept = keptOf(row);
    return kept.profile ? { at: kept.attempt.at, profile: kept.profile } : null;
  }

  private cutoff(): number {
    return this.now().getTime() - this.retentionMs;
  }

  /** The row to insert, redacted and bounded here, before anything reaches the database. */
  private rowOf(a: SignInAttempt): unknown[] {
    const p = a.profile;
    const { dialect } = this.ready.db;
    const bool = (v: boolean) => (dialect === 'postgres' ? v : v ? 1 : 0);
    return [
      uuidv7(a.at),
      a.connectionId,
      a.tenantId,
      a.at.getTime(),
      a.subject === null ? null : clip(a.subject, MAX_SUBJECT),
      clip(a.outcome, 64),
      bool(a.ok),
      a.hint,
      a.roles ? JSON.stringify(a.roles) : null,
      bool(a.test),
      JSON.stringify(bounded(redactAttributes(p, this.redact))),
      p
        ? JSON.stringify({
            protocol: p.protocol,
            issuer: clip(String(p.issuer), MAX_VALUE),
            subjectFormat: p.subjectFormat,
            emailVerified: p.emailVerified,
          })
        : null,
    ];
  }

  private async write(connectionId: string, row: unknown[]): Promise<void> {
    const { db, s } = this.ready;
    await db.sql.run(s.insert, row);
    const cutoff = this.cutoff();
    const writes = this.writes.get(connectionId) ?? 0;
    this.writes.set(connectionId, writes + 1);
    if (writes % this.pruneEvery === 0) {
      // The newest row past the cap: it and every older row of the connection go.
      const [edge] = await db.sql.rows(s.boundary, [connectionId, 1, this.perConnection]);
      const edgeAt = edge ? Number(edge['at']) : cutoff;
      const edgeId = edge ? String(edge['id']) : '';
      await db.sql.run(s.pruneConnection, [connectionId, Math.max(cutoff, edgeAt), edgeAt, edgeId]);
    }
    if (this.writes.size > 10_000) this.writes.clear();
    const now = this.now().getTime();
    if (now - this.lastPruneAll >= this.pruneIntervalMs) {
      this.lastPruneAll = now;
      await db.sql.run(s.pruneAll, [cutoff]);
    }
  }

  private fail(error: unknown, what: 'dropped' | 'lost'): void {
    try {
      this.logger.error(
        { error: describeError(error) },
        `jit: a sign-in attempt was ${what} by the tracer (the login went on)`,
      );
    } catch {
      // A failing logger must not reach the login either.
    }
  }
}
