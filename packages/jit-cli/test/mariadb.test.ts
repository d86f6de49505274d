import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { createJitDataSource, TypeormDirectoryStore } from '@jit-sso/typeorm';
import { jit } from './helpers.js';

const SERVER = process.env['JIT_CLI_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';
const URL = `${SERVER}/jit_cli`;

describe('jit against MariaDB/MySQL', () => {
  it('migrates, lists and cleans up over a mysql:// URL', async () => {
    // The server must be there: a missing server fails this test, it does not skip it.
    const admin = await mysql.createConnection(`${SERVER}/test`);
    await admin.query('DROP DATABASE IF EXISTS jit_cli');
    await admin.query('CREATE DATABASE jit_cli CHARACTER SET utf8mb4');
    await admin.end();

    const migrated = await jit(['migrate', '--database-url', URL]);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/^applied /m);

    const dataSource = await createJitDataSource(URL);
    try {
      const store = new TypeormDirectoryStore(dataSource);
      const old = new Date(Date.now() - 200 * 86_400_000);
      await store.transaction(async (tx) => {
        for (const [i, email] of ['ann@acme.com', 'bob@acme.com'].entries()) {
          await tx.insertUser({
            id: `00000000-0000-4000-8000-00000000000${i}`,
            tenantId: 'acme',
            email,
            status: 'active',
            source: 'jit',
            attributes: {},
            roles: [],
            externalId: `E-${i}`,
            createdAt: old,
            lastLoginAt: i === 0 ? old : new Date(),
          });
        }
      });
      const listed = await jit(['users', 'list', '--json', '--database-url', URL]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout).map((u: { email: string }) => u.email)).toEqual([
        'ann@acme.com',
        'bob@acme.com',
      ]);
      const cleaned = await jit([
        'cleanup',
        'dormant',
        '--tenant',
        'acme',
        '--inactive-days',
        '90',
        '--yes',
        '--json',
        '--database-url',
        URL,
      ]);
      expect(cleaned.code, cleaned.stderr).toBe(0);
      expect(JSON.parse(cleaned.stdout)).toMatchObject({ deactivated: 1 });
      expect((await store.findUserById('00000000-0000-4000-8000-000000000000'))!.status).toBe('deactivated');
      const shown = await jit(['users', 'show', 'E-1', '--tenant', 'acme', '--json', '--database-url', URL]);
      expect(JSON.parse(shown.stdout)).toMatchObject({ email: 'bob@acme.com', status: 'active' });
    } finally {
      await dataSource.destroy();
    }
  });
});
