import { ConfigurationError } from '@jit-sso/core';

/** An option that must be a positive integer: `fallback` when absent, `INVALID_CONFIGURATION` naming `owner` and `name` otherwise. */
export function positiveInteger(
  owner: string,
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigurationError(`${owner}: ${name} must be a positive integer.`);
  }
  return value;
}
