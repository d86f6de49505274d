import { JitError, StoreConflictError, StoreError } from './errors.js';
import type { IdentityStore, StoreTransaction } from './store.js';

export type RunInTransaction = <T>(work: (tx: StoreTransaction) => Promise<T>) => Promise<T>;

/**
 * Runs one transaction, retrying when a concurrent login won a unique key; store failures become
 * `StoreError`. `JitError`s, and the errors `passThrough` names (an app's own bugs), are rethrown as
 * they are.
 */
export function transactionRunner(
  store: IdentityStore,
  maxAttempts: number,
  passThrough: (error: Error) => boolean,
): RunInTransaction {
  return async function inTransaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.transaction(work);
      } catch (error) {
        if (error instanceof StoreConflictError && attempt < maxAttempts) continue;
        if (error instanceof JitError || (error instanceof Error && passThrough(error))) throw error;
        throw new StoreError('The account store failed during sign-in.', error);
      }
    }
  };
}
