import { describe, expect, it } from 'vitest';
import {
  createProvisioner,
  fromOidcClaims,
  MemoryStore,
  type IdentityStore,
  type StoreTransaction,
} from '../src/index.js';

describe('a first login racing a concurrent one under read committed', () => {
  it('signs in to the winner’s account when the identity appears between the identity and email lookups', async () => {
    const memory = new MemoryStore();
    const connection = {
      id: 'c1',
      tenantId: 'acme',
      protocol: 'oidc' as const,
      issuer: 'https://idp.test',
      jit: { verifiedDomains: ['acme.test'] },
    };
    const profile = fromOidcClaims({
      iss: 'https://idp.test',
      sub: 's1',
      email: 'ann@acme.test',
      email_verified: true,
    });
    const winner = await createProvisioner({ store: memory, connections: [connection] }).provision({
      connectionId: 'c1',
      profile,
    });
    // The first attempt's identity lookup ran before the winner committed; its email lookup after.
    let stale = true;
    const store: IdentityStore = Object.create(memory, {
      transaction: {
        value: <T>(work: (tx: StoreTransaction) => Promise<T>) =>
          memory.transaction((tx) =>
            work(
              Object.assign(Object.create(tx) as StoreTransaction, {
                findIdentity: async (c: string, s: string) =>
                  stale ? ((stale = false), null) : tx.findIdentity(c, s),
              }),
            ),
          ),
      },
    });
    const result = await createProvisioner({ store, connections: [connection] }).provision({
      connectionId: 'c1',
      profile,
    });
    expect(result.action).toBe('unchanged');
    expect(result.user.id).toBe(winner.user.id);
  });

  it('signs in to the winner’s account when the winner took the last seat while this login waited for it', async () => {
    const memory = new MemoryStore();
    const connection = {
      id: 'c1',
      tenantId: 'acme',
      protocol: 'oidc' as const,
      issuer: 'https://idp.test',
      jit: { verifiedDomains: ['acme.test'] },
    };
    const tenants = [{ id: 'acme', seatLimit: 1 }];
    const profile = fromOidcClaims({
      iss: 'https://idp.test',
      sub: 's1',
      email: 'ann@acme.test',
      email_verified: true,
    });
    const winner = await createProvisioner({ store: memory, connections: [connection], tenants }).provision({
      connectionId: 'c1',
      profile,
    });
    // Both lookups of the first attempt ran before the winner committed; the seat count after.
    let staleReads = 2;
    const store: IdentityStore = Object.create(memory, {
      transaction: {
        value: <T>(work: (tx: StoreTransaction) => Promise<T>) =>
          memory.transaction((tx) =>
            work(
              Object.assign(Object.create(tx) as StoreTransaction, {
                findIdentity: async (c: string, s: string) =>
                  staleReads-- > 0 ? null : tx.findIdentity(c, s),
                findUserByEmail: async (t: string, e: string) =>
                  staleReads-- > 0 ? null : tx.findUserByEmail(t, e),
              }),
            ),
          ),
      },
    });
    const result = await createProvisioner({ store, connections: [connection], tenants }).provision({
      connectionId: 'c1',
      profile,
    });
    expect(result.action).toBe('unchanged');
    expect(result.user.id).toBe(winner.user.id);
  });
});
