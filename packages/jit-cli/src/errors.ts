/**
 * Stable codes for what the command refuses. Exit status: `UsageError` 2 (the command line is wrong),
 * every other failure 1. Errors from the engine (`JitError`) keep their own codes and also exit 1.
 */
export type CliErrorCode =
  | 'USAGE'
  | 'CONFIRMATION_REQUIRED'
  | 'DATABASE_URL_INVALID'
  | 'DATABASE_UNAVAILABLE'
  | 'DATABASE_NOT_FOUND'
  | 'DRIVER_MISSING'
  | 'SCHEMA_OUTDATED'
  | 'STORE_UNSUPPORTED'
  | 'FILE_UNREADABLE'
  | 'CSV_INVALID'
  | 'METADATA_INVALID'
  | 'METADATA_SIGNATURE_INVALID'
  | 'CERTIFICATE_INVALID'
  | 'DISCOVERY_INVALID'
  | 'FETCH_FAILED'
  | 'CONFIG_INVALID'
  | 'CONNECTION_EXISTS'
  | 'USER_NOT_FOUND'
  | 'USER_AMBIGUOUS'
  | 'DIRECTORY_NOT_FOUND'
  | 'TOKEN_NOT_FOUND'
  | 'ROWS_NOT_APPLIED'
  | 'ABORTED';

export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly hint: string | null;
  readonly details: Readonly<Record<string, unknown>>;
  override readonly cause?: unknown;

  constructor(
    code: CliErrorCode,
    message: string,
    options: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint ?? null;
    this.details = Object.freeze({ ...options.details });
    if (options.cause !== undefined) this.cause = options.cause;
  }

  get exitCode(): number {
    return 1;
  }
}

/** The command line itself is wrong: exit status 2. */
export class UsageError extends CliError {
  constructor(message: string, options: { hint?: string; code?: CliErrorCode } = {}) {
    super(options.code ?? 'USAGE', message, options.hint ? { hint: options.hint } : {});
  }

  override get exitCode(): number {
    return 2;
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
