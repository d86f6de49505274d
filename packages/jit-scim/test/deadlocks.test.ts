import { describe, expect, it } from 'vitest';
import { MemoryDirectoryStore, StoreConflictError } from '@jit-sso/core';
import { harness, PATCH, USER } from './helpers.js';

/** A memory store whose next `failures` write transactions end as deadlock victims, as PostgreSQL's and MariaDB's can. */
class DeadlockingStore extends MemoryDirectoryStore {
  failures = 0;
  attempts = 0;
  override directoryTransaction<T>(work: Parameters<MemoryDirectoryStore['directoryTransaction']>[0]) {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new StoreConflictError('deadlock', new Error('deadlock detected')));
    }
    return super.directoryTransaction(work) as Promise<T>;
  }
}

describe('writes that the database ends as deadlock victims', () => {
  it('run again from their first read, and answer as if nothing happened', async () => {
    const store = new DeadlockingStore();
    const { call } = await harness({ store });
    const created = await call('POST', '/Users', { schemas: [USER], userName: 'ann@acme.test' });
    store.failures = 2;
    store.attempts = 0;
    const patched = await call('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'title', value: 'Engineer' }],
    });
    expect(patched.status).toBeLessThan(300);
    expect(store.attempts).toBe(3);
    expect((await call('GET', `/Users/${created.body.id}`)).body.title).toBe('Engineer');
  });

  it('answer 503 (never 409) when every attempt loses', async () => {
    const store = new DeadlockingStore();
    const { call } = await harness({ store });
    store.failures = 100;
    const answer = await call('POST', '/Users', { schemas: [USER], userName: 'bob@acme.test' });
    expect(answer.status).toBe(503);
    expect(store.failures).toBe(100 - 5);
  });
});
