import { describe, expect, it } from 'vitest';
import { createProvisioner, fromOidcClaims, MemoryStore } from '../src/index.js';

describe('smoke', () => {
  it('creates then finds a user', async () => {
    const store = new MemoryStore();
    const p = createProvisioner({
      store,
      connections: [{ id: 'acme-oidc', tenantId: 'acme', protocol: 'oidc', issuer: 'https://idp.acme.test', jit: { verifiedDomains: ['acme.test'] } }],
    });
    const profile = fromOidcClaims({ iss: 'https://idp.acme.test', sub: 's1', email: 'Ann@Acme.test', email_verified: true });
    const first = await p.provision({ connectionId: 'acme-oidc', profile });
    expect(first.action).toBe('created');
    expect(first.user.email).toBe('ann@acme.test');
    const second = await p.provision({ connectionId: 'acme-oidc', profile });
    expect(second.action).toBe('unchanged');
    expect(second.user.id).toBe(first.user.id);
  });
});
