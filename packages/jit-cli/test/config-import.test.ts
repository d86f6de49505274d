import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJitDataSource, TypeormConfigurationStore } from '@jit-sso/typeorm';
import { jit, tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.remove());
const cert = readFileSync(join(import.meta.dirname, 'fixtures', 'current.pem'), 'utf8');

const config = {
  tenants: [{ id: 'acme', seatLimit: 25 }, { id: 'globex' }],
  connections: [
    {
      id: 'acme-saml',
      tenantId: 'acme',
      protocol: 'saml',
      issuer: 'https://idp.acme.test/saml',
      jit: { verifiedDomains: ['acme.test'], roleRules: [{ group: 'admins', roles: ['admin'] }] },
      protocolOptions: {
        saml: {
          entryPoint: 'https://idp.acme.test/sso',
          idpCert: cert,
          spEntityId: 'https://app.test/auth/saml/acme-saml/metadata',
          acsUrl: 'https://app.test/auth/saml/acme-saml/acs',
        },
      },
    },
    {
      id: 'globex-oidc',
      tenantId: 'globex',
      protocol: 'oidc',
      issuer: 'https://idp.globex.test',
      jit: { verifiedDomains: ['globex.test'] },
      protocolOptions: {
        oidc: {
          clientId: 'app',
          clientSecret: 'dev',
          redirectUri: 'https://app.test/auth/oidc/globex-oidc/callback',
        },
      },
    },
  ],
};

describe('jit config import', () => {
  it('imports a static configuration into the store, recorded, and changes only what differs when run again', async () => {
    const db = join(dir.path, 'jit.db');
    writeFileSync(db, '');
    const file = join(dir.path, 'connections.json');
    writeFileSync(file, JSON.stringify(config));
    expect((await jit(['migrate', '--database-url', db])).code).toBe(0);

    const first = await jit(['config', 'import', file, '--database-url', db, '--actor', 'ops@saas.test']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('connections  2 created, 0 updated, 0 unchanged');
    expect(first.stdout).toContain('domains      2 verified, 0 unchanged');

    writeFileSync(
      file,
      JSON.stringify({
        ...config,
        connections: [
          { ...config.connections[0], jit: { ...config.connections[0]!.jit, defaultRoles: ['viewer'] } },
          config.connections[1],
        ],
      }),
    );
    const again = await jit(['config', 'import', file, '--database-url', db, '--json']);
    expect(JSON.parse(again.stdout)).toEqual({
      tenants: { saved: 0, unchanged: 2 },
      connections: { created: 0, updated: 1, unchanged: 1 },
      domains: { added: 0, unchanged: 2 },
    });

    const dataSource = await createJitDataSource(`sqlite:${db}`);
    try {
      const store = new TypeormConfigurationStore(dataSource);
      expect(await store.getTenant('acme')).toMatchObject({ seatLimit: 25 });
      expect((await store.getConnection('acme-saml'))?.definition.jit).toEqual({
        roleRules: [{ group: 'admins', roles: ['admin'] }],
        defaultRoles: ['viewer'],
      });
      expect((await store.listDomains('globex')).map((d) => [d.domain, d.status])).toEqual([
        ['globex.test', 'verified'],
      ]);
      const events = await store.listConfigurationEvents({ limit: 50 });
      expect(events.map((e) => e.actor)).toEqual([...Array(6).fill('ops@saas.test'), 'import']);
      expect(JSON.stringify(events)).not.toContain('"dev"');
    } finally {
      await dataSource.destroy();
    }
  });

  it('refuses an invalid file, writing nothing', async () => {
    const db = join(dir.path, 'bad.db');
    writeFileSync(db, '');
    await jit(['migrate', '--database-url', db]);
    const file = join(dir.path, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ connections: [{ ...config.connections[1], jit: { verifiedDomains: ['co.uk'] } }] }),
    );
    const result = await jit(['config', 'import', file, '--database-url', db]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/public suffix/);
    const dataSource = await createJitDataSource(`sqlite:${db}`);
    try {
      expect(await new TypeormConfigurationStore(dataSource).configurationVersion()).toBe(0);
    } finally {
      await dataSource.destroy();
    }
  });
});
