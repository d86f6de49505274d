import { timingSafeEqual } from 'node:crypto';
import { hashToken, type DirectoryRecord, type DirectoryStore } from '@jit-sso/core';
import { unauthorized, type ScimError } from './errors.js';

// Directories and tokens are issued by `@jit-sso/core` (the CLI, the admin service and apps share them).
export { createDirectory, hashToken, issueDirectoryToken, revokeDirectoryToken } from '@jit-sso/core';

/** The directory a bearer token opens, or a 401 `ScimError`. */
export async function authenticate(
  store: DirectoryStore,
  authorization: string | undefined,
): Promise<DirectoryRecord> {
  const outcome = await resolveToken(store, authorization);
  if ('refused' in outcome) throw outcome.refused;
  return outcome.directory;
}

/**
 * The directory a bearer token opens, or why it is refused, with the tenant of a revoked token
 * (failures of a known tenant are throttled per tenant too).
 */
export async function resolveToken(
  store: DirectoryStore,
  authorization: string | undefined,
): Promise<{ directory: DirectoryRecord } | { refused: ScimError; tenantId: string | null }> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return { refused: unauthorized('A bearer token is required.'), tenantId: null };
  const presented = hashToken(match[1]!);
  const found = await store.findTokenWithDirectory(presented);
  // The lookup is by the hash of a 256-bit random value; the constant-time comparison also guards
  // stores whose index lookup is not exact (e.g. case-insensitive collations).
  const expected = Buffer.from(found?.token.hash ?? '', 'utf8');
  const actual = Buffer.from(presented, 'utf8');
  if (!found || expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    return { refused: unauthorized('The bearer token is not valid.'), tenantId: null };
  }
  if (found.token.revokedAt !== null) {
    return { refused: unauthorized('The bearer token is not valid.'), tenantId: found.directory.tenantId };
  }
  return { directory: found.directory };
}
