import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MemoryDirectoryStore } from '@jit-sso/core';
import {
  createDirectory,
  createScimAuthThrottle,
  createScimService,
  issueDirectoryToken,
  revokeDirectoryToken,
  type ScimAuthThrottle,
  type ScimService,
} from '../src/index.js';
import { BASE } from './helpers.js';

async function directoryWith(throttle: ScimAuthThrottle) {
  const store = new MemoryDirectoryStore();
  const directory = await createDirectory(store, { tenantId: 'acme' });
  const { token, record } = await issueDirectoryToken(store, directory.id);
  const warnings: string[] = [];
  const logger = { error: () => undefined, warn: (_: unknown, line: string) => void warnings.push(line) };
  const service = createScimService({ store, baseUrl: BASE, authThrottle: throttle, logger });
  return { store, token, tokenId: record.id, service, warnings };
}

const get = (service: ScimService, token: string, clientAddress: string) =>
  service.handle({
    method: 'GET',
    path: '/Users',
    headers: { authorization: `Bearer ${token}` },
    clientAddress,
  });

const guess = () => randomBytes(32).toString('base64url');

describe('failed SCIM authentications are throttled', () => {
  it('answers 429 with Retry-After within the first 50 of 200 guesses, logs and audits the burst once, and leaves other clients alone', async () => {
    const { store, token, service, warnings } = await directoryWith(createScimAuthThrottle({ failures: 20 }));
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 200; i++) {
      const answer = await get(service, guess(), '203.0.113.7');
      statuses.push(answer.status);
      if (answer.status === 429) retryAfter ??= answer.headers['Retry-After'];
    }
    const first429 = statuses.indexOf(429);
    expect(first429).toBeGreaterThanOrEqual(0);
    expect(first429).toBeLessThan(50);
    expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // Once blocked, the address is refused even with the right token; another address is not.
    expect((await get(service, token, '203.0.113.7')).status).toBe(429);
    expect((await get(service, token, '198.51.100.2')).status).toBe(200);
    expect(warnings).toEqual([
      'SCIM authentication throttled for address:203.0.113.7: too many failed attempts',
    ]);
    const events = await store.listAuditEvents({ limit: 100 });
    const throttled = events.filter((e) => e.reason === 'SCIM_AUTH_THROTTLED');
    expect(throttled).toHaveLength(1);
    expect(throttled[0]).toMatchObject({ action: 'denied', actor: 'scim', subject: '203.0.113.7' });
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it("counts a tenant's revoked token per tenant too, whichever address sends it", async () => {
    const { store, token, tokenId, service } = await directoryWith(createScimAuthThrottle({ failures: 3 }));
    await revokeDirectoryToken(store, tokenId);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(service, token, `192.0.2.${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    const events = await store.listAuditEvents({ tenantId: 'acme', limit: 100 });
    expect(events.filter((e) => e.reason === 'SCIM_AUTH_THROTTLED')).toHaveLength(1);
  });

  it('is on by default, and off with authThrottle: false', async () => {
    const store = new MemoryDirectoryStore();
    await createDirectory(store, { tenantId: 'acme' });
    const on = createScimService({ store, baseUrl: BASE, logger: { error: () => undefined } });
    const off = createScimService({ store, baseUrl: BASE, authThrottle: false });
    const onStatuses = new Set<number>();
    const offStatuses = new Set<number>();
    for (let i = 0; i < 30; i++) {
      onStatuses.add((await get(on, guess(), '203.0.113.9')).status);
      offStatuses.add((await get(off, guess(), '203.0.113.9')).status);
    }
    expect(onStatuses).toEqual(new Set([401, 429]));
    expect(offStatuses).toEqual(new Set([401]));
  });
});

describe('a throttle in Redis', () => {
  const clients: Redis[] = [];
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('shares the count between copies of the app', async () => {
    const keyPrefix = `jit-sso:test:${randomBytes(6).toString('hex')}`;
    const copies = await Promise.all(
      [0, 1].map(async () => {
        const redis = new Redis({ host: '127.0.0.1', port: 6379 });
        clients.push(redis);
        await new Promise((resolve) => redis.once('ready', resolve));
        return directoryWith(createScimAuthThrottle({ redis, keyPrefix, failures: 10 }));
      }),
    );
    const statuses = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await get(copies[i % 2]!.service, guess(), '203.0.113.50')).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it('keeps authenticating, throttled in memory, while Redis is unreachable', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    clients.push(redis);
    const { token, service } = await directoryWith(createScimAuthThrottle({ redis, failures: 2 }));
    const started = Date.now();
    expect((await get(service, token, '203.0.113.60')).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(service, guess(), '203.0.113.60')).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
