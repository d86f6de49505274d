import { InvalidArgumentError } from 'commander';

/** Option parser for a positive whole number. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError('expected a positive whole number.');
  }
  return n;
}

/** Option parser for an ISO 8601 date or date-time (a date alone is midnight UTC). */
export function parseDate(value: string): Date {
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())
    ? Date.parse(value)
    : NaN;
  if (Number.isNaN(ms))
    throw new InvalidArgumentError('expected an ISO date such as 2026-01-31 or 2026-01-31T12:00:00Z.');
  return new Date(ms);
}
