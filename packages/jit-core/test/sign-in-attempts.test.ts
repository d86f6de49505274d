import { describe, expect, it } from 'vitest';
import { createProvisioner, JitError, MemoryStore, type SignInAttempt } from '../src/index.js';
import { oidcConnection, oidcLogin } from './fixtures.js';

const oidcProfile = (sub: string, claims: Record<string, unknown> = {}) =>
  oidcLogin({ sub, email: `${sub}@acme.test`, ...claims });

describe('sign-in attempts and test sign-ins', () => {
  it('tells the tracer of each success and refusal, with the profile received', async () => {
    const attempts: SignInAttempt[] = [];
    const provisioner = createProvisioner({
      store: new MemoryStore(),
      connections: [oidcConnection({}, { roleRules: [{ group: 'admins', roles: ['admin'] }] })],
      onSignInAttempt: (a) => void attempts.push(a),
    });
    await provisioner.provision({
      connectionId: 'acme-oidc',
      profile: oidcProfile('ann', { groups: ['admins'] }),
    });
    await expect(
      provisioner.provision({
        connectionId: 'acme-oidc',
        profile: oidcProfile('eve', { email: 'eve@elsewhere.test' }),
      }),
    ).rejects.toBeInstanceOf(JitError);
    await provisioner.recordDenial({
      connectionId: 'acme-oidc',
      error: new JitError('OIDC_CALLBACK_INVALID', 'state'),
    });
    expect(attempts.map((a) => [a.outcome, a.ok, a.subject, a.tenantId, a.test])).toEqual([
      ['created', true, 'ann', 'acme', false],
      ['DOMAIN_NOT_ALLOWED', false, 'eve', 'acme', false],
      ['OIDC_CALLBACK_INVALID', false, null, 'acme', false],
    ]);
    expect(attempts[0]!.roles).toEqual(['admin']);
    expect(attempts[0]!.profile?.attributes['groups']).toEqual(['admins']);
    expect(attempts[1]!.hint).toMatch(/verify/i);
  });

  it('makes the decision of a test sign-in without writing anything', async () => {
    const store = new MemoryStore();
    const attempts: SignInAttempt[] = [];
    const events: unknown[] = [];
    const provisioner = createProvisioner({
      store,
      connections: [oidcConnection({}, { roleRules: [{ group: 'admins', roles: ['admin'] }] })],
      onSignInAttempt: (a) => void attempts.push(a),
      onEvent: (e) => void events.push(e),
    });
    const result = await provisioner.provision({
      connectionId: 'acme-oidc',
      profile: oidcProfile('ann', { groups: ['admins'] }),
      dryRun: true,
    });
    expect(result.action).toBe('created');
    expect(result.roles).toEqual(['admin']);
    expect(await store.findUserByEmail('acme', 'ann@acme.test')).toBeNull();
    expect(await store.listAuditEvents({ limit: 10 })).toEqual([]);
    expect(events).toEqual([]);
    expect(attempts.map((a) => [a.outcome, a.test])).toEqual([['created', true]]);
    // The real login afterwards creates the account as if no test had run.
    expect(
      (await provisioner.provision({ connectionId: 'acme-oidc', profile: oidcProfile('ann') })).action,
    ).toBe('created');
  });
});
