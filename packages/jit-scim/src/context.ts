import {
  auditEvent,
  consoleLogger,
  logServerError,
  SeatLimitReachedError,
  StoreConflictError,
  StoreError,
  type AuditAction,
  type Change,
  type Connection,
  type DirectoryRecord,
  type DirectoryStore,
  type DirectoryTransaction,
  type JitLogger,
  type ScimResourceRecord,
  type ScimResourceType,
} from '@jit-sso/core';
import type { Limits } from './discovery.js';
import { ScimError, invalidValue, notFound, preconditionFailed, uniqueness } from './errors.js';
import { INPUT_LIMITS } from './limits.js';
import { etagOf } from './resources.js';
import type { Headers, ScimRequest, ScimServiceOptions } from './types.js';

export type Json = Record<string, unknown>;

/** Runs of one write whose transaction the database ended as a deadlock victim. */
const DEADLOCK_ATTEMPTS = 5;

/** The directory a request's token opened, and the connection whose rules map its groups to roles. */
export interface Context {
  directory: DirectoryRecord;
  connection: Connection | null;
}

/** What every part of the service shares: the options, checked and defaulted once. */
export interface ServiceContext {
  store: DirectoryStore;
  provisioner: ScimServiceOptions['provisioner'];
  /** The SCIM base without a trailing slash. */
  baseUrl: string;
  render: { baseUrl: string };
  now: () => Date;
  logger: JitLogger;
  limits: Limits;
  /** Reports a failure answered with a 5xx (`onError`, else the logger). */
  report: (error: unknown, status: number, request?: Pick<ScimRequest, 'method' | 'path'>) => void;
  audit: (
    tx: DirectoryTransaction,
    ctx: Context,
    action: AuditAction,
    fields: { userId?: string | null; subject?: string | null; reason?: string | null; changes?: Change[] },
  ) => Promise<void>;
  /**
   * A write transaction; a userName taken concurrently surfaces as 409 uniqueness. A transaction the
   * database chose as a deadlock victim was rolled back whole, and runs again from its first read.
   */
  write: <T>(work: (tx: DirectoryTransaction) => Promise<T>, userName?: string) => Promise<T>;
}

export function createServiceContext(options: ScimServiceOptions): ServiceContext {
  const { store, provisioner } = options;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? consoleLogger;
  const limits: Limits = Object.freeze({
    maxResults: options.maxResults ?? 200,
    bulkMaxOperations: options.bulk?.maxOperations ?? 1000,
    bulkMaxPayloadSize: options.bulk?.maxPayloadSize ?? 1_048_576,
    input: INPUT_LIMITS,
  });
  const report: ServiceContext['report'] = (error, status, request) =>
    options.onError
      ? options.onError(error)
      : logServerError(logger, error, { method: request?.method, path: request?.path, status });
  const audit: ServiceContext['audit'] = (tx, ctx, action, fields) =>
    tx.appendAudit(
      auditEvent({
        at: now(),
        tenantId: ctx.directory.tenantId,
        actor: 'scim',
        action,
        connectionId: ctx.connection?.id ?? null,
        ...fields,
      }),
    );
  const write = <T>(work: (tx: DirectoryTransaction) => Promise<T>, userName?: string) =>
    writeTransaction(store, work, userName);
  return { store, provisioner, baseUrl, render: { baseUrl }, now, logger, limits, report, audit, write };
}

async function writeTransaction<T>(
  store: DirectoryStore,
  work: (tx: DirectoryTransaction) => Promise<T>,
  userName?: string,
): Promise<T> {
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.directoryTransaction(work);
      } catch (error) {
        if (!(error instanceof StoreConflictError && error.constraint === 'deadlock')) throw error;
        if (attempt === DEADLOCK_ATTEMPTS)
          throw new StoreError('The write lost to concurrent writes on every attempt.', error);
      }
    }
  } catch (error) {
    if (error instanceof StoreConflictError) {
      throw uniqueness(
        userName
          ? `A user with userName "${userName}" already exists.`
          : 'The change conflicts with an existing resource.',
      );
    }
    if (error instanceof SeatLimitReachedError) {
      throw new ScimError(403, null, `SEAT_LIMIT_REACHED: ${error.message} ${error.hint}`, {
        code: 'SEAT_LIMIT_REACHED',
        cause: error,
      });
    }
    throw error;
  }
}

export function header(headers: Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower)
      return Array.isArray(value) ? value.join(',') : (value as string | undefined);
  }
  return undefined;
}

export function queryValue(query: ScimRequest['query'], name: string): string | undefined {
  if (!query) return undefined;
  if (query instanceof URLSearchParams) {
    for (const [key, value] of query) if (key.toLowerCase() === name.toLowerCase()) return value;
    return undefined;
  }
  for (const [key, value] of Object.entries(query)) {
    if (key.toLowerCase() === name.toLowerCase())
      return Array.isArray(value) ? value[0] : (value as string | undefined);
  }
  return undefined;
}

export function etagMatches(list: string, etag: string): boolean {
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return list.split(',').some((t) => t.trim() === '*' || strip(t) === strip(etag));
}

/**
 * The resource a write changes, read under its row lock (so concurrent writes to it wait and then
 * see this one's result), after the request's If-Match is compared with it under that lock.
 */
export async function lockForWrite(
  tx: DirectoryTransaction,
  ctx: Context,
  type: ScimResourceType,
  id: string,
  request: ScimRequest,
): Promise<ScimResourceRecord> {
  const current = await tx.lockResource(ctx.directory.id, type, id);
  if (!current) throw notFound(`${type} "${id}" not found.`);
  checkIfMatch(request, current);
  return current;
}

export function checkIfMatch(request: ScimRequest, record: ScimResourceRecord): void {
  const ifMatch = header(request.headers, 'if-match');
  if (ifMatch && !etagMatches(ifMatch, etagOf(record))) {
    throw preconditionFailed(`The resource has changed: its version is ${etagOf(record)}.`);
  }
}

/** The decoded segments of a request path (without its query). */
export function pathSegments(path: string): string[] {
  return path.split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
}

export function integer(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) throw invalidValue(`"${name}" must be an integer.`);
  return n;
}
