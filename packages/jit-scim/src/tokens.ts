import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  auditEvent,
  type DirectoryRecord,
  type DirectoryStore,
  type DirectoryTokenRecord,
} from '@jit-sso/core';
import { unauthorized, type ScimError } from './errors.js';

const PREFIX = 'scim_';

/** SHA-256 of a token, hex: what the store keeps and looks tokens up by. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates a tenant's directory (its SCIM endpoint). Groups map to roles by `connectionId`'s rules. */
export async function createDirectory(
  store: DirectoryStore,
  input: { tenantId: string; name?: string; connectionId?: string | null; id?: string },
): Promise<DirectoryRecord> {
  return store.directoryTransaction(async (tx) => {
    const directory = await tx.insertDirectory({
      id: input.id ?? randomUUID(),
      tenantId: input.tenantId,
      name: input.name ?? input.tenantId,
      connectionId: input.connectionId ?? null,
      createdAt: new Date(),
    });
    await tx.appendAudit(
      auditEvent({
        at: directory.createdAt,
        tenantId: directory.tenantId,
        actor: 'admin',
        action: 'created',
        connectionId: directory.connectionId,
        reason: 'scim-directory',
        changes: [{ field: 'directory', from: null, to: directory.id }],
      }),
    );
    return directory;
  });
}

/**
 * Issues a bearer token for a directory. The token is returned once and only its hash is stored;
 * several tokens may be active at once, so a directory can rotate without downtime.
 */
export async function issueDirectoryToken(
  store: DirectoryStore,
  directoryId: string,
  options: { label?: string } = {},
): Promise<{ token: string; record: DirectoryTokenRecord }> {
  const token = PREFIX + randomBytes(32).toString('base64url');
  const record = await store.directoryTransaction(async (tx) => {
    const directory = await tx.findDirectory(directoryId);
    if (!directory) throw new Error(`No directory with id "${directoryId}".`);
    const inserted = await tx.insertToken({
      id: randomUUID(),
      directoryId,
      hash: hashToken(token),
      label: options.label ?? '',
      createdAt: new Date(),
    });
    await tx.appendAudit(
      auditEvent({
        at: inserted.createdAt,
        tenantId: directory.tenantId,
        actor: 'admin',
        action: 'created',
        reason: 'scim-token',
        changes: [{ field: 'token', from: null, to: inserted.id }],
      }),
    );
    return inserted;
  });
  return { token, record };
}

export async function revokeDirectoryToken(store: DirectoryStore, tokenId: string): Promise<void> {
  await store.directoryTransaction(async (tx) => {
    const at = new Date();
    await tx.revokeToken(tokenId, at);
  });
}

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
