import pg from 'pg';
import { describeStoreCommands } from './store-suite.js';

const SERVER = process.env['JIT_CLI_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE = 'jit_cli';

async function query(database: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${SERVER}/${database}` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describeStoreCommands('PostgreSQL', () => {
  let created = false;
  return {
    async fresh() {
      // The server must be there: a missing server fails these tests, it does not skip them.
      if (!created) {
        await query('test', `DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
        await query('test', `CREATE DATABASE ${DATABASE}`);
        created = true;
      } else {
        await query(DATABASE, 'DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      }
      return `${SERVER}/${DATABASE}`;
    },
    async dispose() {},
  };
});
