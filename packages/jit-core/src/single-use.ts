import { createHash } from 'node:crypto';
import type { Connection } from './connection.js';
import { JitError } from './errors.js';
import type { IdentityStore, StoreTransaction } from './store.js';

const SINGLE_USE_PRUNE_INTERVAL_MS = 5 * 60_000;

/** A message that may carry a login only once (a SAML assertion). */
export interface SingleUseMessage {
  readonly key: string;
  readonly expiresAt: Date;
}

/** Records the login's message as used, or refuses it as a replay. */
export async function useOnce(
  tx: StoreTransaction,
  connection: Connection,
  message: SingleUseMessage,
  at: Date,
): Promise<void> {
  const key = createHash('sha256').update(message.key).digest('base64url');
  if (!(await tx.useOnce({ connectionId: connection.id, key, expiresAt: message.expiresAt, at }))) {
    throw new JitError('SAML_REPLAY', 'This SAML response has already been used.');
  }
}

/**
 * Deletes expired single-use records, at most once per interval per process, after a login that
 * wrote one: the table stays as large as the messages still live. A failure here fails no login.
 */
export function singleUsePruner(store: IdentityStore, now: () => Date): () => Promise<void> {
  let prunedAt = 0;
  return async function pruneSingleUses(): Promise<void> {
    const at = now();
    if (at.getTime() - prunedAt < SINGLE_USE_PRUNE_INTERVAL_MS) return;
    prunedAt = at.getTime();
    await store.pruneSingleUse(at, 1000).catch(() => undefined);
  };
}
