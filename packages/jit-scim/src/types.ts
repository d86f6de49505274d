// `import { type … }` rather than `import type`: the emitted declarations, which api/scim.api.md
// records, then keep these as plain imports.
import { type DirectoryStore, type JitLogger, type Provisioner, type SeatAdmission } from '@jit-sso/core';
import type { Limits } from './discovery.js';
import type { ScimAuthThrottle } from './throttle.js';

export type Headers = Record<string, string | readonly string[] | undefined>;

export interface ScimRequest {
  method: string;
  /** The path below the SCIM base, e.g. `/Users/123` (a query string here is ignored; use `query`). */
  path: string;
  query?: Record<string, string | readonly string[] | undefined> | URLSearchParams;
  headers?: Headers;
  /** The parsed JSON body, if any. */
  body?: unknown;
  /**
   * The client's address (behind a proxy, the one the app trusts, e.g. Express's `req.ip`): failed
   * authentications are throttled per address.
   */
  clientAddress?: string;
}

export interface ScimResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

export interface ScimServiceOptions {
  store: DirectoryStore;
  /**
   * The engine (`createProvisioner`): reads the connection whose role rules map a directory's groups
   * to roles (`DirectoryRecord.connectionId`), and holds active users within the tenant's seat limit.
   * Without it, no roles are granted from groups and no seat limit applies.
   */
  provisioner?: Pick<Provisioner, 'getConnection'> & SeatAdmission;
  /** The public URL of the SCIM base, e.g. `https://app.example.com/scim/v2`; used in `Location` and `meta.location`. */
  baseUrl: string;
  /** Largest page (`count`) served; default 200. */
  maxResults?: number;
  bulk?: { maxOperations?: number; maxPayloadSize?: number };
  /** Where failures answered with a 5xx are logged, with their cause and never the request (default console). */
  logger?: JitLogger;
  /**
   * Limits failed authentications per client address and per tenant (429 with `Retry-After`).
   * Default: `createScimAuthThrottle()` in this process's memory; give one on Redis to share the
   * counts between copies of the app, or `false` to turn throttling off.
   */
  authThrottle?: ScimAuthThrottle | false;
  /** Called instead of `logger` with each failure answered with a 5xx (the answer has no details). */
  onError?: (error: unknown) => void;
  now?: () => Date;
}

export interface ScimService {
  handle(request: ScimRequest): Promise<ScimResponse>;
  readonly limits: Limits;
}
