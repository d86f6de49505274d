import { describe, expect, it } from 'vitest';
import {
  auditEvent,
  configurationAuditEvent,
  hasLifecycleEvent,
  isPublicAddress,
  lifecycleEventOf,
  MAX_AUDITED_MEMBERS,
  MAX_EVENT_PAYLOAD_BYTES,
  membersChange,
  registerWebhookEndpoint,
  WebhookError,
  type GroupMembersEventPayload,
  type OutboxStore,
  webhookBody,
  webhookSignatures,
} from '../src/index.js';
import { Webhook } from 'standardwebhooks';

const at = new Date('2030-01-01T00:00:00Z');

describe('lifecycleEventOf', () => {
  it.each([
    ['created', 'user.created'],
    ['linked', 'user.linked'],
    ['deactivated', 'user.deactivated'],
    ['reactivated', 'user.reactivated'],
    ['deleted', 'user.deleted'],
  ] as const)('maps a user audit event %s to %s, ordered by the user', (action, type) => {
    const audit = auditEvent({ at, tenantId: 't', actor: 'scim', action, userId: 'u1', reason: 'scim' });
    expect(lifecycleEventOf(audit)).toEqual({
      id: audit.id,
      type,
      at,
      tenantId: 't',
      orderingKey: 'u1',
      payload: { version: 1, actor: 'scim', connectionId: null, userId: 'u1', reason: 'scim', fields: [] },
    });
  });

  it('names the fields an update changed without their values, and a roles-only change user.roles_changed', () => {
    const update = auditEvent({
      at,
      tenantId: 't',
      actor: 'jit',
      action: 'updated',
      userId: 'u1',
      changes: [
        { field: 'email', from: 'old@x.test', to: 'new@x.test' },
        { field: 'roles', from: ['a'], to: ['a', 'b'] },
      ],
    });
    const event = lifecycleEventOf(update)!;
    expect(event.type).toBe('user.updated');
    expect(event.payload).toMatchObject({
      fields: ['email', 'roles'],
      roles: { from: ['a'], to: ['a', 'b'] },
    });
    expect(JSON.stringify(event)).not.toContain('x.test');
    const roles = auditEvent({
      at,
      tenantId: 't',
      actor: 'scim',
      action: 'updated',
      userId: 'u1',
      reason: 'scim-groups',
      changes: [{ field: 'roles', from: [], to: ['admin'] }],
    });
    expect(lifecycleEventOf(roles)).toMatchObject({
      type: 'user.roles_changed',
      payload: { roles: { to: ['admin'] } },
    });
  });

  it('writes no event for an unchanged login or a refused SCIM token, and a refused login with its code and hint', () => {
    expect(
      lifecycleEventOf(auditEvent({ tenantId: 't', actor: 'jit', action: 'unchanged', userId: 'u' })),
    ).toBeNull();
    expect(
      lifecycleEventOf(auditEvent({ tenantId: 't', actor: 'scim', action: 'denied', reason: 'TOKEN' })),
    ).toBeNull();
    // A refused admin call (another tenant's object, an SSRF-refused webhook URL) is no refused login.
    const adminDenial = auditEvent({
      tenantId: 't',
      actor: 'admin',
      action: 'denied',
      subject: 'ann@acme.test',
      reason: 'ADMIN_CROSS_TENANT',
    });
    expect(hasLifecycleEvent(adminDenial)).toBe(false);
    expect(lifecycleEventOf(adminDenial)).toBeNull();
    const refused = lifecycleEventOf(
      auditEvent({
        tenantId: 't',
        actor: 'jit',
        action: 'denied',
        connectionId: 'c',
        subject: 's',
        reason: 'MISSING_ATTRIBUTE',
      }),
    )!;
    expect(refused).toMatchObject({
      type: 'login.refused',
      orderingKey: 'tenant:t',
      payload: { code: 'MISSING_ATTRIBUTE', hint: expect.stringContaining('attribute'), connectionId: 'c' },
    });
    expect(JSON.stringify(refused)).not.toContain('"s"');
    const unknownCode = lifecycleEventOf(
      auditEvent({ tenantId: 't', actor: 'jit', action: 'denied', reason: 'X' }),
    );
    expect(unknownCode!.payload).toMatchObject({ code: 'X', hint: null });
  });

  it('maps groups and configuration changes', () => {
    const group = auditEvent({
      tenantId: 't',
      actor: 'scim',
      action: 'deleted',
      reason: 'scim-group',
      changes: [{ field: 'group', from: 'Engineering', to: null }],
    });
    expect(lifecycleEventOf(group)).toMatchObject({
      type: 'group.deleted',
      payload: { groupId: null, group: 'Engineering' },
    });
    const token = auditEvent({
      tenantId: 't',
      actor: 'admin',
      action: 'created',
      reason: 'scim-token',
      changes: [{ field: 'token', from: null, to: 'tok-1' }],
    });
    expect(lifecycleEventOf(token)).toMatchObject({
      type: 'config.changed',
      payload: { object: 'scim-token', change: 'created', id: 'tok-1' },
    });
  });

  it('maps a membership change to group.members_changed, with the ids added and removed', () => {
    const audit = auditEvent({
      at,
      tenantId: 't',
      actor: 'scim',
      action: 'updated',
      connectionId: 'c',
      subject: 'g1',
      reason: 'scim-group',
      changes: [{ field: 'group', from: 'Eng', to: 'Engineering' }, ...membersChange(['u1', 'u2'], ['u3'])],
    });
    expect(hasLifecycleEvent(audit)).toBe(true);
    expect(lifecycleEventOf(audit)).toEqual({
      id: audit.id,
      type: 'group.members_changed',
      at,
      tenantId: 't',
      orderingKey: 'tenant:t',
      payload: {
        version: 1,
        actor: 'scim',
        connectionId: 'c',
        userId: null,
        groupId: 'g1',
        group: 'Engineering',
        added: ['u1', 'u2'],
        removed: ['u3'],
      },
    });
  });

  it('writes no membership event for a write that changed no membership', () => {
    expect(membersChange([], [])).toEqual([]);
    const audit = auditEvent({
      tenantId: 't',
      actor: 'scim',
      action: 'updated',
      subject: 'g1',
      reason: 'scim-group',
      changes: [{ field: 'members', from: [], to: [] }],
    });
    expect(hasLifecycleEvent(audit)).toBe(false);
    expect(lifecycleEventOf(audit)).toBeNull();
  });

  it('cuts the member lists of a large change to the payload limit, and says so', () => {
    const id = (i: number) => `0190a0a0-0000-7000-8000-${String(i).padStart(12, '0')}`;
    const added = Array.from({ length: 1000 }, (_, i) => id(i));
    const removed = Array.from({ length: 50 }, (_, i) => id(10_000 + i));
    const changes = membersChange(added, removed);
    // The audit event keeps at most MAX_AUDITED_MEMBERS of each list, and the counts.
    expect((changes[0]!.to as string[]).length).toBe(MAX_AUDITED_MEMBERS);
    expect(changes[1]).toEqual({ field: 'memberCounts', from: 50, to: 1000 });
    const event = lifecycleEventOf(
      auditEvent({
        tenantId: 't',
        actor: 'scim',
        action: 'updated',
        subject: 'g',
        reason: 'scim-group',
        changes,
      }),
    )!;
    const payload = event.payload as GroupMembersEventPayload;
    expect(payload.truncated).toBe(true);
    expect(payload.added).toEqual(added.slice(0, payload.added.length));
    expect(payload.removed).toEqual(removed.slice(0, payload.removed.length));
    expect(payload.added.length + payload.removed.length).toBeGreaterThan(0);
    expect(JSON.stringify(payload).length).toBeLessThanOrEqual(MAX_EVENT_PAYLOAD_BYTES);

    // Under the audit cap but over the payload limit: cut by the payload limit alone.
    const long = (i: number) => `${id(i)}-${'x'.repeat(60)}`;
    const big = lifecycleEventOf(
      auditEvent({
        tenantId: 't',
        actor: 'scim',
        action: 'updated',
        subject: 'g',
        reason: 'scim-group',
        changes: membersChange(
          Array.from({ length: 150 }, (_, i) => long(i)),
          Array.from({ length: 150 }, (_, i) => long(500 + i)),
        ),
      }),
    )!;
    const cut = big.payload as GroupMembersEventPayload;
    expect(cut.truncated).toBe(true);
    expect(cut.added.length).toBe(150);
    expect(cut.removed.length).toBeLessThan(150);
    expect(Buffer.byteLength(JSON.stringify(cut))).toBeLessThanOrEqual(MAX_EVENT_PAYLOAD_BYTES);
    // A small change is not cut.
    expect(
      lifecycleEventOf(
        auditEvent({
          tenantId: 't',
          actor: 'scim',
          action: 'updated',
          subject: 'g',
          reason: 'scim-group',
          changes: membersChange(['u'], []),
        }),
      )!.payload,
    ).not.toHaveProperty('truncated');
  });

  it.each([
    ['domain.claimed', 'domain', 'created', 'acme.test'],
    ['domain.verified', 'domain', 'updated', 'acme.test'],
    ['domain.released', 'domain', 'deleted', 'acme.test'],
    ['tenant.saved', 'tenant', 'updated', 'acme'],
    ['connection.updated', 'connection', 'updated', 'acme-saml'],
  ] as const)(
    'maps the stored configuration change %s to config.changed',
    (action, object, change, target) => {
      const audit = configurationAuditEvent({
        id: '0190a0a0-0000-7000-8000-000000000001',
        at,
        version: 7,
        tenantId: 'acme',
        actor: action === 'tenant.saved' ? 'system' : 'ann@admins.test',
        action,
        target,
        changes: [
          { field: 'saml.certificates', from: ['old'], to: ['new'] },
          { field: 'oidc.clientSecret', from: '[redacted]', to: '[redacted]' },
        ],
      });
      expect(audit).not.toBeNull();
      expect(hasLifecycleEvent(audit!)).toBe(true);
      const event = lifecycleEventOf(audit!)!;
      expect(event).toMatchObject({
        id: '0190a0a0-0000-7000-8000-000000000001',
        type: 'config.changed',
        orderingKey: 'tenant:acme',
        payload: {
          actor: action === 'tenant.saved' ? 'system' : 'admin',
          connectionId: object === 'connection' ? target : null,
          object,
          change,
          id: target,
          action,
          fields: ['oidc.clientSecret', 'saml.certificates'],
        },
      });
      // Field names only: neither values nor the administrator's id.
      expect(JSON.stringify(event)).not.toMatch(/old|new|redacted|ann@/);
    },
  );

  it.each(['scim-token.issued', 'scim-token.revoked'] as const)(
    'leaves the event of %s to the directory store, which audits the token itself',
    (action) => {
      const audit = configurationAuditEvent({
        id: '0190a0a0-0000-7000-8000-000000000002',
        at,
        version: 8,
        tenantId: 'acme',
        actor: 'ann@admins.test',
        action,
        target: '0190a0a0-0000-7000-8000-0000000000aa',
        changes: [],
      });
      expect(audit).toBeNull();
    },
  );

  it('cuts a payload over the limit, and says so', () => {
    const many = Array.from({ length: 5000 }, (_, i) => `role-${i}`);
    const audit = auditEvent({
      tenantId: 't',
      actor: 'scim',
      action: 'updated',
      userId: 'u',
      changes: [{ field: 'roles', from: [], to: many }],
    });
    const event = lifecycleEventOf(audit)!;
    expect(event.payload).toMatchObject({ truncated: true, fields: [] });
    expect(event.payload).not.toHaveProperty('roles');
    expect(Buffer.byteLength(webhookBody(event))).toBeLessThan(MAX_EVENT_PAYLOAD_BYTES);
  });
});

it('hasLifecycleEvent says whether lifecycleEventOf makes an event, for every kind of audit event', () => {
  const actions = [
    'created',
    'linked',
    'updated',
    'unchanged',
    'denied',
    'deactivated',
    'reactivated',
    'deleted',
  ] as const;
  const actors = ['jit', 'scim', 'admin', 'system'] as const;
  const reasons = [
    null,
    'scim',
    'dormant',
    'scim-group',
    'scim-token',
    'scim-directory',
    'webhook-endpoint',
    'connection',
    'domain',
    'tenant',
    'X',
  ];
  let events = 0;
  for (const action of actions)
    for (const actor of actors)
      for (const reason of reasons)
        for (const userId of [null, 'u1']) {
          const audit = auditEvent({ tenantId: 't', actor, action, reason, userId });
          const event = lifecycleEventOf(audit);
          expect(hasLifecycleEvent(audit), JSON.stringify(audit)).toBe(event !== null);
          if (event) events++;
        }
  expect(events).toBeGreaterThan(100);
});

describe('webhook signatures', () => {
  it('verify with the reference implementation, with either secret during a rotation', () => {
    const current = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
    const previous = 'whsec_' + Buffer.alloc(32, 2).toString('base64');
    const now = new Date();
    const header = webhookSignatures(
      { secret: current, previousSecret: previous, previousSecretExpiresAt: new Date(now.getTime() + 1000) },
      'evt-1',
      now,
      '{"a":1}',
    );
    const headers = {
      'webhook-id': 'evt-1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': header,
    };
    expect(header.split(' ')).toHaveLength(2);
    for (const secret of [current, previous])
      expect(new Webhook(secret).verify('{"a":1}', headers)).toEqual({ a: 1 });
    const expired = webhookSignatures(
      { secret: current, previousSecret: previous, previousSecretExpiresAt: now },
      'evt-1',
      now,
      '{"a":1}',
    );
    expect(() =>
      new Webhook(previous).verify('{"a":1}', { ...headers, 'webhook-signature': expired }),
    ).toThrow();
  });
});

describe('isPublicAddress', () => {
  it.each([
    ['93.184.215.14', true],
    ['2606:4700:4700::1111', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.0.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['224.0.0.1', false],
    ['not-an-ip', false],
  ])('%s: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('registerWebhookEndpoint', () => {
  it('refuses an unknown event type with its own code and hint, before writing anything', async () => {
    const written: unknown[] = [];
    const store = { insertEndpoint: async (e: unknown) => void written.push(e) } as unknown as OutboxStore;
    for (const eventTypes of [
      ['user.created', 'user.nope'],
      'user.created' as unknown as string[],
      [42 as unknown as string],
    ]) {
      const error = await registerWebhookEndpoint(
        { store, mode: 'development' },
        { tenantId: 'acme', url: 'http://127.0.0.1:9/x', eventTypes },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebhookError);
      expect(error).toMatchObject({ code: 'WEBHOOK_EVENT_TYPE_UNKNOWN', httpStatus: 400 });
      expect((error as WebhookError).hint).toContain('LIFECYCLE_EVENT_TYPES');
      expect((error as WebhookError).message).toContain('user.created');
    }
    expect(written).toEqual([]);
  });
});
