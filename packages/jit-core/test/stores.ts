import { MemoryStore, type IdentityStore, type StoreTransaction } from '../src/index.js';

type TxHooks = Partial<{
  [K in keyof StoreTransaction]: (
    tx: StoreTransaction,
    ...args: Parameters<StoreTransaction[K]>
  ) => ReturnType<StoreTransaction[K]>;
}>;

/**
 * A MemoryStore whose transactions see some methods replaced, to play a failing database or a lost
 * race. Reads outside transactions go straight to the MemoryStore.
 */
export class ScriptedStore extends MemoryStore implements IdentityStore {
  transactions = 0;
  /** Runs after a transaction failed and was rolled back, before the error reaches the engine. */
  afterRollback: ((error: unknown) => Promise<void>) | null = null;

  constructor(public hooks: TxHooks = {}) {
    super();
  }

  override async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.transactions++;
    const hooks = this.hooks;
    try {
      return await super.transaction((tx) =>
        work(
          new Proxy(tx, {
            get(target, name: keyof StoreTransaction) {
              const hook = hooks[name] as ((tx: StoreTransaction, ...args: unknown[]) => unknown) | undefined;
              return hook ? (...args: unknown[]) => hook(target, ...args) : target[name];
            },
          }),
        ),
      );
    } catch (error) {
      const after = this.afterRollback;
      if (after) {
        this.afterRollback = null;
        await after(error);
      }
      throw error;
    }
  }
}
