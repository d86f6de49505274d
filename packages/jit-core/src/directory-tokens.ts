import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { auditEvent } from './audit.js';
import type { DirectoryRecord, DirectoryStore, DirectoryTokenRecord } from './directory.js';

/**
 * SCIM directories and their bearer tokens: what `@jit-sso/scim` authenticates with, issued by the
 * CLI, the admin service or the app. A token is 256 random bits, shown once; only its SHA-256 is kept.
 */

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
