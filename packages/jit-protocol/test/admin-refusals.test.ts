import { beforeEach, describe, expect, it } from 'vitest';
import {
  hasLifecycleEvent,
  lifecycleEventOf,
  MemoryConfigurationStore,
  MemoryDirectoryStore,
  MemoryStore,
  type AuditEvent,
  type IdentityStore,
  type OutboxStore,
  type WebhookEndpointRecord,
} from '@jit-sso/core';
import {
  AdminError,
  createAdminApi,
  createAdminService,
  type AdminCaller,
  type AdminService,
} from '../src/index.js';
import { securityRefusalReason } from '../src/admin/errors.js';
import { A, B, endpointRoutes, foreignCalls, idpMetadata } from './admin-support.js';

const AT = new Date('2027-01-01T00:00:00Z');

/** The endpoints part of an outbox store, in memory: enough to register and find endpoints. */
class Endpoints {
  readonly endpoints = new Map<string, WebhookEndpointRecord>();
  claimDeliveries = async () => [];
  async findEndpoint(id: string) {
    return this.endpoints.get(id) ?? null;
  }
  async listEndpoints(tenantId?: string) {
    return [...this.endpoints.values()].filter((e) => tenantId === undefined || e.tenantId === tenantId);
  }
  async insertEndpoint(endpoint: WebhookEndpointRecord) {
    this.endpoints.set(endpoint.id, endpoint);
    return endpoint;
  }
  async updateEndpoint() {
    throw new Error('a refused call changes nothing');
  }
  async listDeliveries() {
    return [];
  }
  async redeliver() {
    return 0;
  }
}

interface Logged {
  level: 'warn' | 'error';
  record: Record<string, unknown>;
  line: string;
}

let audit: MemoryStore;
let logged: Logged[];
let service: AdminService;
let endpoints: Endpoints;
let configuration: MemoryConfigurationStore;

function build(auditStore: Pick<IdentityStore, 'transaction'> = audit) {
  return createAdminService({
    configuration,
    publicUrl: 'https://app.example.com',
    webhooks: {
      store: endpoints as unknown as OutboxStore,
      resolve: async (host) => [
        { address: host.startsWith('internal.') ? '10.0.0.7' : '93.184.216.34', family: 4 },
      ],
    },
    audit: auditStore,
    logger: {
      warn: (record, line) => logged.push({ level: 'warn', record, line }),
      error: (record, line) => logged.push({ level: 'error', record, line }),
    },
    now: () => AT,
  });
}

beforeEach(async () => {
  audit = new MemoryStore();
  logged = [];
  endpoints = new Endpoints();
  configuration = new MemoryConfigurationStore();
  service = build();
  await service.createSamlConnection(A, {
    id: 'acme-saml',
    metadataXml: idpMetadata('https://idp.acme.test/saml'),
  });
  await service.claimDomain(A, { domain: 'acme.example' });
});

const trail = () => audit.listAuditEvents({ limit: 100 });

async function refusal(promise: Promise<unknown>): Promise<AdminError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdminError);
  return error as AdminError;
}

/** The one audit event and warn line of a security refusal by `caller`. */
async function expectAudited(caller: AdminCaller, reason: string): Promise<AuditEvent> {
  const events = await trail();
  expect(events).toHaveLength(1);
  const [event] = events;
  expect(event).toMatchObject({
    tenantId: caller.tenantId,
    actor: 'admin',
    action: 'denied',
    subject: caller.actor,
    reason,
    connectionId: null,
    userId: null,
    changes: [],
  });
  expect(logged).toEqual([
    {
      level: 'warn',
      record: { tenantId: caller.tenantId, actor: caller.actor, code: expect.any(String), reason },
      line: expect.stringContaining(reason),
    },
  ]);
  return event!;
}

describe('security refusals of the admin service are audited and logged', () => {
  it.each(foreignCalls)(
    "%s of another tenant's object: still NOT_FOUND, audited ADMIN_CROSS_TENANT in the caller's tenant",
    async (_name, call) => {
      const error = await refusal(call(service));
      expect([error.code, error.httpStatus]).toEqual(['NOT_FOUND', 404]);
      expect(JSON.stringify(error.toJSON())).not.toContain('CROSS_TENANT');
      await expectAudited(B, 'ADMIN_CROSS_TENANT');
      expect(await audit.listAuditEvents({ tenantId: 'acme', limit: 100 })).toEqual([]);
    },
  );

  it("another tenant's webhook endpoint, on every endpoint route of the API", async () => {
    const { endpoint } = await service.registerWebhookEndpoint(A, { url: 'https://hooks.acme.test/a' });
    for (const [method, path] of endpointRoutes(endpoint.id)) {
      audit = new MemoryStore();
      logged = [];
      service = build();
      const [pathname, search] = path.split('?');
      const answer = await createAdminApi(service).handle({
        method,
        path: pathname!,
        query: new URLSearchParams(search ?? ''),
        body: undefined,
        caller: B,
      });
      expect([path, answer.status, (answer.body as any).error.code]).toEqual([path, 404, 'NOT_FOUND']);
      await expectAudited(B, 'ADMIN_CROSS_TENANT');
    }
  });

  it('an object that does not exist is NOT_FOUND as well, and not audited', async () => {
    for (const call of [
      service.getConnection(B, 'nope'),
      service.verifyDomain(B, 'nope.example'),
      service.pauseWebhookEndpoint(B, 'nope'),
    ]) {
      expect((await refusal(call)).code).toBe('NOT_FOUND');
    }
    expect(await trail()).toEqual([]);
    expect(logged).toEqual([]);
  });

  it('a webhook URL refused as SSRF: WEBHOOK_URL_REFUSED 400, audited; the URL is not logged', async () => {
    const error = await refusal(
      service.registerWebhookEndpoint(B, { url: 'https://internal.globex.test/x?token=abc' }),
    );
    expect([error.code, error.httpStatus]).toEqual(['WEBHOOK_URL_REFUSED', 400]);
    await expectAudited(B, 'WEBHOOK_URL_REFUSED');
    expect(JSON.stringify(logged)).not.toContain('token=abc');
    expect(endpoints.endpoints.size).toBe(0);
  });

  it('bad input is not a security refusal: not audited, not logged', async () => {
    const cases: Array<[Promise<unknown>, string]> = [
      [service.registerWebhookEndpoint(B, { url: 'http://hooks.globex.test/x' }), 'WEBHOOK_URL_INVALID'],
      [service.registerWebhookEndpoint(B, {}), 'INVALID_INPUT'],
      [service.updateConnection(A, 'acme-saml', { nope: 1 }), 'INVALID_INPUT'],
      [service.claimDomain(B, { domain: 'acme.example' }), 'DOMAIN_TAKEN'],
      [service.listConnections({ actor: '', tenantId: 'acme' }), 'UNAUTHENTICATED'],
    ];
    for (const [call, code] of cases) expect((await refusal(call)).code).toBe(code);
    expect(await trail()).toEqual([]);
    expect(logged).toEqual([]);
  });

  it('a failed audit write is logged, and the refusal stands (not a 5xx)', async () => {
    service = build({
      transaction: async () => {
        throw new Error('audit table is full');
      },
    });
    const error = await refusal(service.getConnection(B, 'acme-saml'));
    expect([error.code, error.httpStatus]).toEqual(['NOT_FOUND', 404]);
    expect(logged.map((l) => l.level)).toEqual(['warn', 'error']);
    expect(logged[1]!.record).toMatchObject({
      tenantId: 'globex',
      reason: 'ADMIN_CROSS_TENANT',
      error: { message: 'audit table is full' },
    });
  });

  it('FORBIDDEN_TENANT and WEBHOOK_URL_REFUSED are security refusals wherever they are thrown', () => {
    expect(securityRefusalReason(new AdminError('FORBIDDEN_TENANT', 'another tenant'))).toBe(
      'FORBIDDEN_TENANT',
    );
    expect(securityRefusalReason(new AdminError('WEBHOOK_URL_REFUSED', 'private'))).toBe(
      'WEBHOOK_URL_REFUSED',
    );
    expect(securityRefusalReason(new AdminError('NOT_FOUND', 'missing'))).toBeNull();
    expect(securityRefusalReason(new AdminError('INVALID_INPUT', 'bad'))).toBeNull();
  });

  it('an admin denial is no lifecycle event (no login.refused)', async () => {
    await refusal(service.getConnection(B, 'acme-saml'));
    const [event] = await trail();
    expect(hasLifecycleEvent(event!)).toBe(false);
    expect(lifecycleEventOf(event!)).toBeNull();
  });

  it('audits in the webhooks store when no audit store is given and it keeps an audit trail', async () => {
    const identity = new MemoryStore();
    const combined = Object.assign(Object.create(identity) as MemoryStore, {
      ...Object.fromEntries(
        (['claimDeliveries', 'findEndpoint', 'listEndpoints', 'insertEndpoint'] as const).map((k) => [
          k,
          (endpoints[k] as (...args: unknown[]) => unknown).bind(endpoints),
        ]),
      ),
    });
    const fallback = createAdminService({
      configuration: new MemoryConfigurationStore(),
      publicUrl: 'https://app.example.com',
      webhooks: { store: combined as unknown as OutboxStore },
      logger: { warn: () => {}, error: () => {} },
    });
    const { endpoint } = await fallback.registerWebhookEndpoint(A, { url: 'https://93.184.216.34/a' });
    await refusal(fallback.pauseWebhookEndpoint(B, endpoint.id));
    expect(await identity.listAuditEvents({ limit: 10 })).toMatchObject([
      { tenantId: 'globex', actor: 'admin', action: 'denied', reason: 'ADMIN_CROSS_TENANT' },
    ]);
  });

  it("a SCIM token asked for another tenant's directory: NOT_FOUND, audited ADMIN_CROSS_TENANT", async () => {
    const directory = new MemoryDirectoryStore();
    const scim = createAdminService({
      configuration,
      publicUrl: 'https://app.example.com',
      directory,
      audit,
      logger: {
        warn: (record, line) => logged.push({ level: 'warn', record, line }),
        error: (record, line) => logged.push({ level: 'error', record, line }),
      },
      now: () => AT,
    });
    const { record } = await scim.issueScimToken(A, { label: 'okta' });
    const error = await refusal(scim.issueScimToken(B, { directoryId: record.directoryId }));
    expect([error.code, error.httpStatus]).toEqual(['NOT_FOUND', 404]);
    await expectAudited(B, 'ADMIN_CROSS_TENANT');
    expect(await directory.listTokens(record.directoryId)).toHaveLength(1);
    // A directory that exists nowhere is a plain NOT_FOUND, not audited.
    expect((await refusal(scim.issueScimToken(B, { directoryId: 'nowhere' }))).code).toBe('NOT_FOUND');
    expect(await trail()).toHaveLength(1);
  });
});
