import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { auditTrail, denial, samlLogin, setup } from './fixtures.js';

const later = () => new Date(Date.now() + 5 * 60_000);

describe('a login message used once', () => {
  it('refuses a second login with the same message, audits the refusal, and changes nothing', async () => {
    const events: string[] = [];
    const { provisioner, store } = setup({ options: { onEvent: (event) => void events.push(event.type) } });
    const message = { key: 'https://idp.acme.test\n_assertion-1', expiresAt: later() };
    const first = await provisioner.provision({
      connectionId: 'acme-saml',
      profile: samlLogin(),
      singleUse: message,
    });
    expect(first.action).toBe('created');
    const error = await denial(
      provisioner.provision({ connectionId: 'acme-saml', profile: samlLogin(), singleUse: message }),
      'SAML_REPLAY',
    );
    expect(error.httpStatus).toBe(401);
    const trail = await auditTrail(store);
    expect(trail.map((e) => [e.action, e.reason])).toEqual([
      ['created', null],
      ['denied', 'SAML_REPLAY'],
    ]);
    expect(events).toEqual(['provisioned', 'denied']);
  });

  it('accepts another message for the same person, and the same message on another connection', async () => {
    const { provisioner } = setup();
    await provisioner.provision({
      connectionId: 'acme-saml',
      profile: samlLogin(),
      singleUse: { key: '_a1', expiresAt: later() },
    });
    const again = await provisioner.provision({
      connectionId: 'acme-saml',
      profile: samlLogin(),
      singleUse: { key: '_a2', expiresAt: later() },
    });
    expect(again.action).toBe('unchanged');
  });

  it('prunes expired records after a login, at most once per five minutes', async () => {
    let clock = Date.parse('2026-06-01T09:00:00Z');
    const store = new MemoryStore();
    const pruned: number[] = [];
    const prune = store.pruneSingleUse.bind(store);
    store.pruneSingleUse = async (before, limit) => {
      pruned.push(before.getTime());
      return prune(before, limit);
    };
    const { provisioner } = setup({ store, options: { now: () => new Date(clock) } });
    const login = (key: string) =>
      provisioner.provision({
        connectionId: 'acme-saml',
        profile: samlLogin(),
        singleUse: { key, expiresAt: new Date(clock + 60_000) },
      });
    await login('_1');
    clock += 60_000;
    await login('_2');
    clock += 5 * 60_000;
    await login('_3');
    expect(pruned).toEqual([Date.parse('2026-06-01T09:00:00Z'), Date.parse('2026-06-01T09:06:00Z')]);
    // The first two records expired by the second prune and are gone; the third is live.
    expect(await store.pruneSingleUse(new Date(clock + 120_000))).toBe(1);
  });
});
