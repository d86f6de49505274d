import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, deployScim, type ScimDeployment } from '../src/databases.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
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
});
