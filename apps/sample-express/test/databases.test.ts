import mysql from 'mysql2/promise';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startSample } from '../src/index.js';
import { Browser } from '@jit-sso/dev-idp/testing';

// The servers of the development machine and CI; override with JIT_TEST_POSTGRES_URL / JIT_TEST_MYSQL_URL.
const POSTGRES_SERVER = process.env['JIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const MYSQL_SERVER = process.env['JIT_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';
const NAME = 'jit_sample_express';

async function freshPostgres(): Promise<string> {
  const admin = new pg.Client({ connectionString: `${POSTGRES_SERVER}/test` });
  await admin.connect();
  try {
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [NAME],
    );
    await admin.query(`DROP DATABASE IF EXISTS "${NAME}"`);
    await admin.query(`CREATE DATABASE "${NAME}"`);
  } finally {
    await admin.end();
  }
  return `${POSTGRES_SERVER}/${NAME}`;
}

async function freshMysql(): Promise<string> {
  const admin = await mysql.createConnection(MYSQL_SERVER);
  try {
    await admin.query(`DROP DATABASE IF EXISTS \`${NAME}\``);
    await admin.query(`CREATE DATABASE \`${NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  return `${MYSQL_SERVER}/${NAME}`;
}

describe.each([
  ['PostgreSQL', freshPostgres],
  ['MariaDB', freshMysql],
])('DATABASE_URL on %s', (_name, fresh) => {
  it('migrates the schema at start, signs in and serves SCIM, and migrates nothing at the next start', async () => {
    const databaseUrl = await fresh();
    const first = await startSample({ port: 0, databaseUrl });
    try {
      expect(first.migrations.length).toBeGreaterThan(0);
      const browser = new Browser();
      const picker = await browser.go(`${first.url}/auth/oidc/acme-oidc/login`);
      const profile = await browser.pick(picker, 'u1001');
      expect(profile.url).toBe(`${first.url}/profile`);
      expect(profile.body).toMatch(/id="last-login"[\s\S]*?data-action="created"/);
      const scim = await fetch(`${first.url}/scim/v2/Users`, {
        headers: { authorization: `Bearer ${first.scim.token}` },
      });
      expect(scim.status).toBe(200);
    } finally {
      await first.close();
    }
    const second = await startSample({ port: 0, databaseUrl });
    try {
      expect(second.migrations).toEqual([]);
      expect(second.scim.directoryId).toBe(first.scim.directoryId);
    } finally {
      await second.close();
    }
  });
});
