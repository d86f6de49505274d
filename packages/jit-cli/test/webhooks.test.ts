import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createProvisioner, fromOidcClaims } from '@jit-sso/core';
import { createJitDataSource, TypeormStore } from '@jit-sso/typeorm';
import { jit, tempDir } from './helpers.js';

const dir = tempDir();
const db = join(dir.path, 'webhooks.db');
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
let status = 500;
const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (d: string) => (body += d));
  req.on('end', () => {
    received.push({ headers: req.headers, body });
    res.statusCode = status;
    res.end();
  });
});
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  expect((await jit(['migrate', '--database-url', db])).code).toBe(0);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  dir.remove();
});

const verify = (secret: string, r: (typeof received)[number]) =>
  new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  }) as { type: string; data: Record<string, unknown> };

it('refuses a loopback or plain-http endpoint outside --development, with the error code', async () => {
  const refused = await jit(['webhooks', 'add', '--database-url', db, '--tenant', 'acme', '--url', url]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('WEBHOOK_URL_INVALID');
  const loopback = await jit([
    'webhooks',
    'add',
    '--database-url',
    db,
    '--tenant',
    'acme',
    '--url',
    'https://127.0.0.1/x',
  ]);
  expect(loopback.code).toBe(1);
  expect(loopback.stderr).toContain('WEBHOOK_URL_REFUSED');
  const types = await jit([
    'webhooks',
    'add',
    '--database-url',
    db,
    '--tenant',
    'acme',
    '--url',
    url,
    '--events',
    'user.nope',
    '--development',
  ]);
  expect(types.code).toBe(1);
  expect(types.stderr).toContain('WEBHOOK_EVENT_TYPE_UNKNOWN');
  expect(types.stderr).toContain('user.nope');
  expect(types.stderr).toContain('user.created');
  // Nothing was registered by any refused command.
  const listed = await jit(['webhooks', 'list', '--database-url', db, '--format', 'json']);
  expect(listed.code).toBe(0);
  expect(JSON.parse(listed.stdout)).toEqual([]);
});

it('registers, delivers signed events, lists failures, redelivers and rotates from the command line', async () => {
  const added = await jit([
    'webhooks',
    'add',
    '--database-url',
    db,
    '--tenant',
    'acme',
    '--url',
    url,
    '--development',
    '--json',
  ]);
  expect(added.code).toBe(0);
  const { id, secret } = JSON.parse(added.stdout) as { id: string; secret: string };
  expect(secret).toMatch(/^whsec_/);

  // A login, committed by the app.
  const dataSource = await createJitDataSource(`sqlite:${db}`);
  try {
    const provisioner = createProvisioner({
      store: new TypeormStore(dataSource),
      connections: [
        {
          id: 'oidc',
          tenantId: 'acme',
          protocol: 'oidc',
          issuer: 'https://idp.test',
          jit: { verifiedDomains: ['acme.test'] },
        },
      ],
    });
    await provisioner.provision({
      connectionId: 'oidc',
      profile: fromOidcClaims({
        iss: 'https://idp.test',
        sub: 'ann',
        email: 'ann@acme.test',
        email_verified: true,
      }),
    });
  } finally {
    await dataSource.destroy();
  }

  // The receiver is failing: the deliveries wait for a retry and show as failures.
  const first = await jit(['events', 'deliver', '--once', '--development', '--json', '--database-url', db]);
  expect(JSON.parse(first.stdout)).toMatchObject({ dispatched: 2, delivered: 0, failed: 2 });
  const failures = await jit(['webhooks', 'failures', '--database-url', db, '--format', 'json']);
  expect(JSON.parse(failures.stdout)).toEqual([
    expect.objectContaining({ endpointId: id, status: 'pending', lastStatus: 500, attempts: 1 }),
    expect.objectContaining({ endpointId: id, status: 'pending', lastStatus: 500, attempts: 1 }),
  ]);

  // The receiver is back; the operator sends the waiting deliveries now rather than at their retry.
  status = 204;
  received.length = 0;
  const queued = await jit([
    'webhooks',
    'redeliver',
    '--database-url',
    db,
    '--endpoint',
    id,
    '--status',
    'pending',
  ]);
  expect(queued.stderr).toContain('2 deliveries queued again');
  const second = await jit(['events', 'deliver', '--once', '--development', '--json', '--database-url', db]);
  expect(JSON.parse(second.stdout)).toMatchObject({ delivered: 2 });
  expect(received.map((r) => verify(secret, r).type).sort()).toEqual(['config.changed', 'user.created']);
  expect(
    JSON.parse((await jit(['webhooks', 'failures', '--database-url', db, '--format', 'json'])).stdout),
  ).toEqual([]);

  // A rotation: both secrets sign until the overlap ends.
  const rotated = await jit(['webhooks', 'rotate', id, '--database-url', db, '--json']);
  const { secret: fresh } = JSON.parse(rotated.stdout) as { secret: string };
  const list = await jit(['webhooks', 'list', '--database-url', db, '--format', 'json']);
  const [listed] = JSON.parse(list.stdout) as Record<string, unknown>[];
  expect(listed).toMatchObject({ id, url, rotating: true, paused: false });
  expect(list.stdout).not.toContain('whsec_');
  received.length = 0;
  // Paused: the rotation's event waits.
  expect((await jit(['webhooks', 'pause', id, '--database-url', db])).code).toBe(0);
  const paused = await jit(['events', 'deliver', '--once', '--development', '--json', '--database-url', db]);
  expect(JSON.parse(paused.stdout)).toMatchObject({ delivered: 0 });
  expect((await jit(['webhooks', 'resume', id, '--database-url', db])).code).toBe(0);
  const resumed = await jit(['events', 'deliver', '--once', '--development', '--json', '--database-url', db]);
  expect(JSON.parse(resumed.stdout)).toMatchObject({ delivered: 3 });
  for (const r of received) {
    expect(verify(fresh, r).type).toBe('config.changed');
    expect(verify(secret, r).type).toBe('config.changed');
  }
}, 120_000);
