import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, deployScim, type ScimDeployment } from '../src/databases.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const suffix = randomBytes(3).toString('hex');

/** This file's databases have names of their own; they are dropped when it ends. */
async function drop(database: string, name: string): Promise<void> {
  if (database === 'PostgreSQL') {
    const admin = new pg.Client({
      connectionString: `${process.env['JIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432'}/test`,
    });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => admin.end());
  } else if (database === 'MariaDB') {
    const admin = await mysql.createConnection(
      process.env['JIT_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306',
    );
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).finally(() => admin.end());
  }
}

describe.each(DATABASES)('the outbox of SCIM writes on %s', (database) => {
  let scim: ScimDeployment;
  const name = `jit_scim_outbox_${database.toLowerCase()}_${suffix}`;
  beforeAll(async () => {
    scim = await deployScim(database, name);
  });
  afterAll(async () => {
    await scim?.close();
    await drop(database, name);
  });

  it('records user.created, user.deactivated and user.deleted with the changes, actor scim, in order', async () => {
    const created = await scim.request({
      method: 'POST',
      path: '/Users',
      body: { schemas: [USER], userName: 'outbox@acme.test', emails: [{ value: 'outbox@acme.test' }] },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const patched = await scim.request({
      method: 'PATCH',
      path: `/Users/${id}`,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] },
    });
    expect(patched.status).toBeLessThan(300);
    expect((await scim.request({ method: 'DELETE', path: `/Users/${id}` })).status).toBe(204);
    // A refused write leaves no event.
    const refused = await scim.request({ method: 'POST', path: '/Users', body: { schemas: [USER] } });
    expect(refused.status).toBe(400);

    const store = scim.copies[0]!.store;
    await store.dispatchEvents(100, new Date());
    const events = (await store.listEvents({ limit: 100 })).filter((e) => e.orderingKey === id);
    expect(events.map((e) => e.type)).toEqual(['user.created', 'user.deactivated', 'user.deleted']);
    for (const event of events)
      expect(event.payload).toMatchObject({ version: 1, actor: 'scim', userId: id });
    expect(JSON.stringify(events)).not.toContain('outbox@acme.test');
  });

  it('records one group.members_changed for a PATCH that adds and removes members, with the ids', async () => {
    const ids: string[] = [];
    for (const name of ['m1', 'm2', 'm3']) {
      const res = await scim.request({
        method: 'POST',
        path: '/Users',
        body: { schemas: [USER], userName: `${name}-${suffix}@acme.test` },
      });
      expect(res.status).toBe(201);
      ids.push((res.body as { id: string }).id);
    }
    const [a, b, c] = ids as [string, string, string];
    const group = await scim.request({
      method: 'POST',
      path: '/Groups',
      body: { schemas: [GROUP], displayName: `Outbox ${suffix}` },
    });
    expect(group.status).toBe(201);
    const groupId = (group.body as { id: string }).id;
    const store = scim.copies[0]!.store;
    await store.dispatchEvents(100, new Date());
    const before = new Set((await store.listEvents({ limit: 500 })).map((e) => e.id));

    const add = await scim.request({
      method: 'PATCH',
      path: `/Groups/${groupId}`,
      body: {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: a }, { value: b }] }],
      },
    });
    expect(add.status).toBeLessThan(300);
    await store.dispatchEvents(100, new Date());
    const afterAdd = (await store.listEvents({ limit: 500 })).filter((e) => !before.has(e.id));
    expect(afterAdd.map((e) => e.type)).toEqual(['group.members_changed']);
    const payload = afterAdd[0]!.payload as { readonly added: readonly string[] };
    expect(payload).toMatchObject({ actor: 'scim', groupId, group: `Outbox ${suffix}`, removed: [] });
    expect([...payload.added].sort()).toEqual([a, b].sort());
    for (const e of afterAdd) before.add(e.id);

    const change = await scim.request({
      method: 'PATCH',
      path: `/Groups/${groupId}`,
      body: {
        schemas: [PATCH_OP],
        Operations: [
          { op: 'add', path: 'members', value: [{ value: c }] },
          { op: 'remove', path: `members[value eq "${a}"]` },
        ],
      },
    });
    expect(change.status).toBeLessThan(300);
    // A PATCH that changes no membership writes none.
    const same = await scim.request({
      method: 'PATCH',
      path: `/Groups/${groupId}`,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: c }] }] },
    });
    expect(same.status).toBeLessThan(300);
    await store.dispatchEvents(100, new Date());
    const events = (await store.listEvents({ limit: 500 })).filter((e) => !before.has(e.id));
    expect(events.map((e) => e.type)).toEqual(['group.members_changed']);
    expect(events[0]!.payload).toMatchObject({ groupId, added: [c], removed: [a] });
  });
});
