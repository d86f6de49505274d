import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { changeConfiguration, createProvisioner, MemoryStore } from '@jit-sso/core';
import { runConfigurationStoreConformance, storedConnection, storedTenant } from '@jit-sso/core/testing';
import {
  createJitDataSource,
  dialectOf,
  migrate,
  TypeormConfigurationStore,
  TypeormStore,
} from '../src/index.js';
import { freshMysql, freshPostgres, MYSQL_SERVER, POSTGRES_SERVER } from './databases.js';
import { expectNoPendingSchemaChanges } from './support.js';

const TABLES = ['jit_config_events', 'jit_config_domains', 'jit_config_connections', 'jit_config_tenants'];

/** Empties the configuration tables and sets the version back to 0, through plain SQL. */
async function reset(dataSource: DataSource): Promise<void> {
  const q = (name: string) => (dialectOf(dataSource) === 'mysql' ? `\`${name}\`` : `"${name}"`);
  for (const table of TABLES) await dataSource.query(`DELETE FROM ${q(table)}`);
  await dataSource.query(`UPDATE ${q('jit_config_state')} SET ${q('version')} = 0`);
}

const name = `jit_cfg_${randomBytes(4).toString('hex')}`;

const servers = {
  sqlite: { url: async () => 'sqlite::memory:', drop: async () => undefined },
  postgres: {
    url: () => freshPostgres(name),
    drop: async () => {
      const admin = new pg.Client({ connectionString: `${POSTGRES_SERVER}/test` });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  },
  mariadb: {
    url: async () => (await freshMysql(name)).replace(/^mysql:/, 'mariadb:'),
    drop: async () => {
      const admin = await mysql.createConnection(MYSQL_SERVER);
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  },
};

for (const [dialect, server] of Object.entries(servers)) {
  describe(`configuration store on ${dialect}`, () => {
    let dataSource: DataSource;
    beforeAll(async () => {
      dataSource = await createJitDataSource(await server.url());
      await migrate(dataSource);
    });
    afterAll(async () => {
      await dataSource?.destroy();
      await server.drop();
    });

    it('has migrations that match the configuration entities, and starts at version 0', async () => {
      await expectNoPendingSchemaChanges(dataSource);
      expect(await new TypeormConfigurationStore(dataSource).configurationVersion()).toBe(0);
    });

    runConfigurationStoreConformance({
      name: dialect,
      store: async () => {
        await reset(dataSource);
        return new TypeormConfigurationStore(dataSource);
      },
      identities: () => new MemoryStore(),
      concurrency: 10,
    });

    it('writes one config.changed event per change, in its transaction, with its actor and no secret', async () => {
      const store = new TypeormStore(dataSource);
      const configuration = new TypeormConfigurationStore(dataSource);
      const events = async () => {
        await store.dispatchEvents(100, new Date());
        return (await store.listEvents({ limit: 1000 })).filter((e) => e.tenantId === 'evt');
      };
      const before = (await events()).length;
      const created = storedConnection('evt-oidc', 'evt', 0, {
        protocolOptions: {
          oidc: { clientId: 'client', clientSecret: 'very-secret-value', redirectUri: 'https://app.test/cb' },
        },
      });
      const { event } = await changeConfiguration(
        configuration,
        { tenantId: 'evt', actor: 'ann@admins.test', action: 'connection.created', target: 'evt-oidc' },
        async (tx, version, at) => {
          await tx.putConnection({ ...created, version, createdAt: at, updatedAt: at });
          return {
            result: null,
            changes: [{ field: 'protocolOptions.oidc.clientSecret', from: null, to: '[redacted]' }],
          };
        },
      );
      const after = await events();
      expect(after).toHaveLength(before + 1);
      const changed = after.at(-1)!;
      expect(changed).toMatchObject({
        id: event.id,
        type: 'config.changed',
        tenantId: 'evt',
        orderingKey: 'tenant:evt',
        payload: {
          version: 1,
          actor: 'admin',
          connectionId: 'evt-oidc',
          object: 'connection',
          change: 'created',
          id: 'evt-oidc',
          action: 'connection.created',
          fields: ['protocolOptions.oidc.clientSecret'],
        },
      });
      expect(JSON.stringify(changed)).not.toContain('very-secret-value');
      expect(JSON.stringify(changed)).not.toContain('ann@admins.test');
      // The administrator is named in the audit trail.
      const [audit] = (await store.listAuditEvents({ tenantId: 'evt', limit: 1000 })).filter(
        (a) => a.id === event.id,
      );
      expect(audit).toMatchObject({ actor: 'admin', subject: 'ann@admins.test', reason: 'connection' });

      // A change that fails after writing leaves neither the change nor an event.
      const version = await configuration.configurationVersion();
      const audited = (await store.listAuditEvents({ tenantId: 'evt', limit: 1000 })).length;
      await expect(
        changeConfiguration(
          configuration,
          { tenantId: 'evt', actor: 'ann', action: 'connection.updated', target: 'evt-oidc' },
          async (tx, v, at) => {
            await tx.putConnection({
              ...created,
              issuer: 'https://changed.test',
              version: v,
              updatedAt: at,
            } as never);
            throw new Error('invalid connection');
          },
        ),
      ).rejects.toThrow('invalid connection');
      expect(await configuration.configurationVersion()).toBe(version);
      expect((await configuration.getConnection('evt-oidc'))!.version).toBe(event.version);
      expect(await events()).toHaveLength(before + 1);
      expect(await store.listAuditEvents({ tenantId: 'evt', limit: 1000 })).toHaveLength(audited);

      // A store told to write no events writes the change alone.
      const quiet = new TypeormConfigurationStore(dataSource, { events: false });
      await changeConfiguration(
        quiet,
        { tenantId: 'evt', actor: 'ann', action: 'connection.deleted', target: 'evt-oidc' },
        async (tx) => {
          await tx.deleteConnection('evt-oidc');
          return { result: null, changes: [] };
        },
      );
      expect(await configuration.getConnection('evt-oidc')).toBeNull();
      expect(await events()).toHaveLength(before + 1);
    });
  });
}

describe('two copies of an app on one PostgreSQL database', () => {
  let url: string;
  const sources: DataSource[] = [];
  beforeAll(async () => {
    url = await servers.postgres.url();
    const first = await createJitDataSource(url);
    await migrate(first);
    sources.push(first, await createJitDataSource(url));
  });
  afterAll(async () => {
    for (const source of sources) await source.destroy();
    await servers.postgres.drop();
  });

  it('uses a certificate rotated through one copy at the next login on the other, within a second', async () => {
    const [a, b] = sources.map((s) => new TypeormConfigurationStore(s)) as [
      TypeormConfigurationStore,
      TypeormConfigurationStore,
    ];
    const saml = (cert: string) => ({
      protocol: 'saml' as const,
      issuer: 'https://idp.acme.test/saml',
      protocolOptions: { saml: { idpCert: cert, entryPoint: 'https://idp.acme.test/sso' } },
    });
    await changeConfiguration(
      a,
      { tenantId: 'acme', actor: 'ops', action: 'connection.created', target: 'acme-saml' },
      async (tx, version) => {
        await tx.putTenant(storedTenant('acme', version));
        await tx.putConnection(storedConnection('acme-saml', 'acme', version, saml('OLD')));
        return { result: null, changes: [] };
      },
    );
    const copyA = createProvisioner({ store: new MemoryStore(), configuration: { store: a } });
    const copyB = createProvisioner({ store: new MemoryStore(), configuration: { store: b } });
    const certOf = async (copy: typeof copyB) =>
      ((await copy.getConnection('acme-saml')).protocolOptions['saml'] as { idpCert: string }).idpCert;
    try {
      const delays: number[] = [];
      for (const [round, cert] of ['NEW-1', 'NEW-2', 'NEW-3', 'NEW-4', 'NEW-5'].entries()) {
        expect(await certOf(copyB)).toBe(round === 0 ? 'OLD' : `NEW-${round}`);
        await changeConfiguration(
          a,
          { tenantId: 'acme', actor: 'ann', action: 'connection.updated', target: 'acme-saml' },
          async (tx, version) => {
            await tx.putConnection(storedConnection('acme-saml', 'acme', version, saml(cert)));
            return { result: null, changes: [] };
          },
        );
        await copyA.refreshConfiguration!();
        expect(await certOf(copyA)).toBe(cert);
        const rotated = performance.now();
        while ((await certOf(copyB)) !== cert) {
          if (performance.now() - rotated > 5000) throw new Error('the other copy never saw the rotation');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        delays.push(performance.now() - rotated);
      }
      const worst = Math.max(...delays);
      console.log(`rotation seen by the other copy after ${delays.map((d) => d.toFixed(0)).join(', ')} ms`);
      expect(worst).toBeLessThan(1000);
    } finally {
      copyA.close!();
      copyB.close!();
    }
  });
});

describe('two app processes on one PostgreSQL database', () => {
  let url: string;
  let dataSource: DataSource;
  beforeAll(async () => {
    url = await servers.postgres.url();
    dataSource = await createJitDataSource(url);
    await migrate(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await servers.postgres.drop();
  });

  it('uses a certificate rotated through this process at the next login of the other, within a second', async () => {
    const store = new TypeormConfigurationStore(dataSource);
    const saml = (cert: string) => ({
      protocol: 'saml' as const,
      issuer: 'https://idp.acme.test/saml',
      protocolOptions: { saml: { idpCert: cert, entryPoint: 'https://idp.acme.test/sso' } },
    });
    const rotate = (cert: string) =>
      changeConfiguration(
        store,
        { tenantId: 'acme', actor: 'ann', action: 'connection.updated', target: 'acme-saml' },
        async (tx, version) => {
          await tx.putConnection(storedConnection('acme-saml', 'acme', version, saml(cert)));
          return { result: null, changes: [] };
        },
      );
    await rotate('OLD');
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures', 'config-watcher.ts'),
        url,
        'acme-saml',
      ],
      { cwd: join(import.meta.dirname, '..'), stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async () =>
      JSON.parse(((await lines.next()).value as string) ?? 'null') as { cert: string; at: number };
    try {
      expect((await next()).cert).toBe('OLD');
      const delays: number[] = [];
      for (const cert of ['NEW-1', 'NEW-2', 'NEW-3']) {
        await rotate(cert);
        const committed = Date.now();
        const seen = await next();
        expect(seen.cert).toBe(cert);
        delays.push(seen.at - committed);
      }
      console.log(`rotation seen by the other process after ${delays.join(', ')} ms`);
      expect(Math.max(...delays)).toBeLessThan(1000);
    } finally {
      child.stdin!.end();
      await new Promise((resolve) => child.once('close', resolve));
    }
  });
});
