import { stringify } from 'csv-stringify/sync';
import type { AuditEvent, UserRecord } from '@jit-sso/core';
import { write, type CliIo } from './io.js';

export type OutputFormat = 'table' | 'json' | 'csv' | 'jsonl';

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
}

/**
 * Writes records as they come, in pages: JSON as one array (valid for `JSON.parse` and `jq`), JSON
 * Lines, CSV with a header, or an aligned table. Only the table holds rows until `end()`, to align them.
 */
export interface RecordWriter<T> {
  write(rows: readonly T[]): Promise<void>;
  end(): Promise<void>;
}

export function createRecordWriter<T>(
  io: CliIo,
  format: OutputFormat,
  columns: readonly Column<T>[],
  toJson: (row: T) => unknown,
): RecordWriter<T> {
  let count = 0;
  const table: string[][] = [];
  return {
    async write(rows) {
      if (rows.length === 0) return;
      let chunk = '';
      switch (format) {
        case 'json':
          for (const row of rows) chunk += `${count++ === 0 ? '[\n' : ',\n'}${JSON.stringify(toJson(row))}`;
          break;
        case 'jsonl':
          for (const row of rows) chunk += `${JSON.stringify(toJson(row))}\n`;
          count += rows.length;
          break;
        case 'csv':
          // Values from identity providers end up in spreadsheets: a cell starting with = + - @ is
          // prefixed with ' so that it is shown, not run as a formula.
          chunk = stringify(
            rows.map((row) => columns.map((c) => c.value(row))),
            count === 0
              ? { header: true, columns: columns.map((c) => c.header), escape_formulas: true }
              : { escape_formulas: true },
          );
          count += rows.length;
          break;
        case 'table':
          for (const row of rows) table.push(columns.map((c) => c.value(row)));
          count += rows.length;
          return;
      }
      await write(io.stdout, chunk);
    },
    async end() {
      if (format === 'json') await write(io.stdout, count === 0 ? '[]\n' : '\n]\n');
      else if (format === 'csv' && count === 0) {
        await write(io.stdout, stringify([], { header: true, columns: columns.map((c) => c.header) }));
      } else if (format === 'table') {
        await write(
          io.stdout,
          renderTable(
            columns.map((c) => c.header),
            table,
          ),
        );
      }
    },
  };
}

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = (v: string) => v.replace(/[\r\n\t]+/g, ' ');
  const all = [headers, ...rows].map((r) => r.map(clean));
  const widths = headers.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all
    .map((r) =>
      r
        .map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

const iso = (d: Date | null) => (d ? d.toISOString() : '');

export const USER_COLUMNS: readonly Column<UserRecord>[] = [
  { header: 'id', value: (u) => u.id },
  { header: 'tenant', value: (u) => u.tenantId },
  { header: 'email', value: (u) => u.email },
  { header: 'status', value: (u) => u.status },
  { header: 'source', value: (u) => u.source },
  { header: 'roles', value: (u) => [...new Set(u.roles.map((g) => g.role))].sort().join(' ') },
  { header: 'externalId', value: (u) => u.externalId ?? '' },
  { header: 'lastLoginAt', value: (u) => iso(u.lastLoginAt) },
  { header: 'createdAt', value: (u) => iso(u.createdAt) },
];

export function userJson(user: UserRecord): Record<string, unknown> {
  return {
    id: user.id,
    tenantId: user.tenantId,
    email: user.email,
    status: user.status,
    source: user.source,
    roles: user.roles,
    externalId: user.externalId,
    attributes: user.attributes,
    createdAt: iso(user.createdAt),
    updatedAt: iso(user.updatedAt),
    lastLoginAt: user.lastLoginAt ? iso(user.lastLoginAt) : null,
    deactivatedAt: user.deactivatedAt ? iso(user.deactivatedAt) : null,
  };
}

export const AUDIT_COLUMNS: readonly Column<AuditEvent>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'at', value: (e) => iso(e.at) },
  { header: 'tenant', value: (e) => e.tenantId },
  { header: 'actor', value: (e) => e.actor },
  { header: 'action', value: (e) => e.action },
  { header: 'connectionId', value: (e) => e.connectionId ?? '' },
  { header: 'subject', value: (e) => e.subject ?? '' },
  { header: 'userId', value: (e) => e.userId ?? '' },
  { header: 'reason', value: (e) => e.reason ?? '' },
  { header: 'changes', value: (e) => (e.changes.length ? JSON.stringify(e.changes) : '') },
];

export function auditJson(event: AuditEvent): Record<string, unknown> {
  return { ...event, at: iso(event.at) };
}
