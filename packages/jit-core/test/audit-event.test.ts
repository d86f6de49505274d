import { describe, expect, it } from 'vitest';
import { auditEvent } from '../src/index.js';

describe('auditEvent', () => {
  it('records what a writer leaves out as null and no changes, with an id that carries its time', () => {
    const at = new Date('2026-11-23T13:00:00.123Z');
    const event = auditEvent({
      at,
      tenantId: 'acme',
      actor: 'admin',
      action: 'created',
      reason: 'scim-token',
    });
    expect(event).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      at,
      tenantId: 'acme',
      actor: 'admin',
      action: 'created',
      connectionId: null,
      subject: null,
      userId: null,
      reason: 'scim-token',
      changes: [],
    });
    expect(parseInt(event.id.replace(/-/g, '').slice(0, 12), 16)).toBe(at.getTime());
  });

  it('is frozen, and keeps its changes when the writer later changes its own list', () => {
    const changes = [{ field: 'status', from: 'active', to: 'deactivated' }];
    const event = auditEvent({ tenantId: 'acme', actor: 'system', action: 'deactivated', changes });
    changes.push({ field: 'email', from: 'a@acme.test', to: 'b@acme.test' });
    expect(event.changes).toEqual([{ field: 'status', from: 'active', to: 'deactivated' }]);
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event.changes)).toBe(true);
  });

  it('is stamped now when no time is given', () => {
    const before = Date.now();
    const event = auditEvent({ tenantId: 'acme', actor: 'jit', action: 'denied' });
    expect(event.at.getTime()).toBeGreaterThanOrEqual(before);
    expect(event.at.getTime()).toBeLessThanOrEqual(Date.now());
  });
});
