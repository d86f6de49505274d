import { createReadStream } from 'node:fs';
import { parse, CsvError } from 'csv-parse';
import { CliError } from './errors.js';

/**
 * One data row of a leavers file. Columns (header row required, names compared ignoring case,
 * spaces, "-" and "_"): `email` (or `mail`, `e-mail`, `email address`), `external_id` (or
 * `externalId`, `external id`), optionally `tenant` (or `tenant_id`). Other columns are ignored.
 */
export interface LeaverRow {
  /** The line where the row ends (1 = the header). */
  readonly line: number;
  readonly email: string | null;
  readonly externalId: string | null;
  readonly tenant: string | null;
}

const COLUMN: Record<string, 'email' | 'externalId' | 'tenant'> = {
  email: 'email',
  mail: 'email',
  emailaddress: 'email',
  externalid: 'externalId',
  tenant: 'tenant',
  tenantid: 'tenant',
};

const columnKey = (header: string) => header.toLowerCase().replace(/[\s_-]+/g, '');

export async function* readLeavers(path: string): AsyncGenerator<LeaverRow> {
  const input = createReadStream(path);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new CliError(
      'FILE_UNREADABLE',
      `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
    );
  }
  let seen: Set<string> | null = null;
  const parser = input.pipe(
    parse({
      bom: true,
      trim: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      relax_column_count: true,
      info: true,
      columns: (headers: string[]) => {
        const names = headers.map((h) => COLUMN[columnKey(h)] ?? `ignored:${h}`);
        seen = new Set(names);
        if (!seen.has('email') && !seen.has('externalId')) {
          throw new CliError(
            'CSV_INVALID',
            `${path}: the header row needs an "email" or "external_id" column (found ${headers.map((h) => `"${h}"`).join(', ') || 'nothing'}).`,
          );
        }
        const dup = names.find((n, i) => !n.startsWith('ignored:') && names.indexOf(n) !== i);
        if (dup) throw new CliError('CSV_INVALID', `${path}: the header names the ${dup} column twice.`);
        return names;
      },
    }),
  );
  const value = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, unknown>;
      info: { lines: number };
    }>) {
      yield {
        line: info.lines,
        email: value(record['email']),
        externalId: value(record['externalId']),
        tenant: value(record['tenant']),
      };
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof CsvError) {
      throw new CliError('CSV_INVALID', `${path}: ${error.message}`, { cause: error });
    }
    throw error;
  } finally {
    input.destroy();
  }
}
