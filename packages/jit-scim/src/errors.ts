/** RFC 7644 §3.12 `scimType` values (and two of this library's own for 401/404/412 answers). */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * A refusal answered in the RFC's error schema. `code` is stable for programs (`SCIM_INVALID_FILTER`,
 * `SCIM_UNIQUENESS`, `SCIM_NOT_FOUND`, ...); `detail` is for the directory's administrator and never
 * contains tokens or stack traces.
 */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | null;
  readonly code: string;
  /** Seconds the client should wait before trying again (`Retry-After`), for 429 and 503. */
  readonly retryAfterSeconds: number | null;
  override readonly cause?: unknown;

  constructor(
    status: number,
    scimType: ScimType | null,
    detail: string,
    options: { code?: string; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
    this.code =
      options.code ??
      (scimType ? `SCIM_${scimType.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}` : `SCIM_${status}`);
    if (options.cause !== undefined) this.cause = options.cause;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }

  get detail(): string {
    return this.message;
  }

  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      schemas: [ERROR_SCHEMA],
      status: String(this.status),
      detail: this.message,
    };
    if (this.scimType) body['scimType'] = this.scimType;
    return body;
  }
}

export const invalidFilter = (detail: string) => new ScimError(400, 'invalidFilter', detail);
export const invalidPath = (detail: string) => new ScimError(400, 'invalidPath', detail);
export const invalidValue = (detail: string) => new ScimError(400, 'invalidValue', detail);
export const invalidSyntax = (detail: string) => new ScimError(400, 'invalidSyntax', detail);
export const noTarget = (detail: string) => new ScimError(400, 'noTarget', detail);
export const mutability = (detail: string) => new ScimError(400, 'mutability', detail);
export const uniqueness = (detail: string) => new ScimError(409, 'uniqueness', detail);
export const notFound = (detail: string) => new ScimError(404, null, detail, { code: 'SCIM_NOT_FOUND' });
export const unauthorized = (detail: string) =>
  new ScimError(401, null, detail, { code: 'SCIM_UNAUTHORIZED' });
export const preconditionFailed = (detail: string) =>
  new ScimError(412, null, detail, { code: 'SCIM_PRECONDITION_FAILED' });

/** Too many failed authentications from this client: 429 until the block ends. */
export const tooManyAttempts = (waitMs: number) =>
  new ScimError(429, null, 'Too many failed authentication attempts; retry later.', {
    code: 'SCIM_AUTH_THROTTLED',
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
