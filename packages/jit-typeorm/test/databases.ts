import pg from 'pg';
import mysql from 'mysql2/promise';

/** The servers the tests use (override with JIT_TEST_POSTGRES_URL / JIT_TEST_MYSQL_URL, no database in the path). */
export const POSTGRES_SERVER = process.env['JIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
export const MYSQL_SERVER = process.env['JIT_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';

/** Drops and creates a PostgreSQL database of this package's own; returns its URL. Fails when the server is down. */
export async function freshPostgres(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: `${POSTGRES_SERVER}/test` });
  await admin.connect();
  try {
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    );
    await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return `${POSTGRES_SERVER}/${name}`;
}

/** Drops and creates a MariaDB/MySQL database of this package's own; returns its URL. */
export async function freshMysql(name: string): Promise<string> {
  const admin = await mysql.createConnection(MYSQL_SERVER);
  try {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  return `${MYSQL_SERVER}/${name}`;
}
