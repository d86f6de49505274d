import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { runDirectoryConformance } from '@jit-sso/core/testing';
import { createJitDataSource, migrate } from '../src/index.js';
import { TypeormDirectoryStore } from '../src/directory/index.js';
import { freshMysql, freshPostgres } from './databases.js';
import { expectNoPendingSchemaChanges } from './support.js';

// The SCIM directory tables on the server databases, in databases of their own.
const DATABASE = 'jit_scim_directory';

describe('PostgreSQL', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await createJitDataSource(await freshPostgres(DATABASE));
    expect(await migrate(dataSource)).toContain('ScimDirectoryPostgres1795439937548');
  });
  afterAll(() => dataSource?.destroy());

  runDirectoryConformance({
    name: 'postgres',
    store: () => new TypeormDirectoryStore(dataSource),
    filterRuns: 200,
  });

  it('has migrations that match the directory entities', async () => {
    await expectNoPendingSchemaChanges(dataSource);
  });
});

describe('MariaDB', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    const url = await freshMysql(DATABASE);
    dataSource = await createJitDataSource(url.replace(/^mysql:/, 'mariadb:'));
    expect(await migrate(dataSource)).toContain('ScimDirectoryMysql1795439937548');
  });
  afterAll(() => dataSource?.destroy());

  runDirectoryConformance({
    name: 'mariadb',
    store: () => new TypeormDirectoryStore(dataSource),
    filterRuns: 200,
  });
});
