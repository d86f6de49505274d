import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSamlKeys } from '@jit-sso/dev-idp';
import { loadConfig, startSample } from '../src/index.js';
import { DEFAULT_CONFIG_PATH } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'jit-sample-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const variables = {
  APP_URL: 'http://localhost:3000',
  DEV_IDP_URL: 'http://localhost:3001',
  DEV_IDP_SAML_CERT: defaultSamlKeys().certificate,
};
const shipped = () => JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as Record<string, any>;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let files = 0;
function write(content: unknown, ext = '.json'): string {
  const file = join(dir, `config-${++files}${ext}`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

async function errorOf(file: string, vars: Record<string, string> = variables): Promise<string> {
  try {
    await loadConfig(file, vars);
  } catch (error) {
    expect((error as { code?: string }).code).toBe('INVALID_CONFIGURATION');
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('the connections file', () => {
  it('loads the shipped demo configuration with the URLs filled in', async () => {
    const { connections } = await loadConfig(DEFAULT_CONFIG_PATH, variables);
    expect(connections.map((c) => c.id)).toEqual(['acme-oidc', 'acme-saml']);
    expect(connections[0]!.issuer).toBe('http://localhost:3001/oidc');
    expect(connections[1]!.protocolOptions['saml']).toMatchObject({
      acsUrl: 'http://localhost:3000/auth/saml/acme-saml/acs',
      idpCert: variables.DEV_IDP_SAML_CERT,
    });
  });

  it('accepts a TypeScript module with a default export', async () => {
    const file = write(`export default ${JSON.stringify(shipped())};`, '.ts');
    const { connections } = await loadConfig(file, variables);
    expect(connections).toHaveLength(2);
  });

  it('names the file and the place of an unknown placeholder', async () => {
    const config = shipped();
    config['connections'][1].protocolOptions.saml.entryPoint = '${IDP_URL}/saml/sso';
    const file = write(config);
    const message = await errorOf(file);
    expect(message).toContain(`Configuration error in ${file}`);
    expect(message).toContain(
      'connections[1].protocolOptions.saml.entryPoint: unknown placeholder ${IDP_URL}',
    );
  });

  it('refuses a connection of a tenant that is not listed', async () => {
    const config = shipped();
    config['connections'][0].tenantId = 'globex';
    expect(await errorOf(write(config))).toContain(
      'connection "acme-oidc": tenantId "globex" is not one of the tenants (acme)',
    );
  });

  it('refuses a connection without verified domains, with the engine’s message', async () => {
    const config = shipped();
    delete config['connections'][0].jit.verifiedDomains;
    expect(await errorOf(write(config))).toContain(
      'jit.verifiedDomains: list the email domains this tenant has verified',
    );
  });

  it('refuses incomplete protocol settings, naming the field', async () => {
    const config = shipped();
    delete config['connections'][1].protocolOptions.saml.acsUrl;
    expect(await errorOf(write(config))).toContain('protocolOptions.saml.acsUrl is required');
    const oidc = shipped();
    delete oidc['connections'][0].protocolOptions.oidc.redirectUri;
    expect(await errorOf(write(oidc))).toContain('protocolOptions.oidc.redirectUri is required');
  });

  it('refuses a misspelt key, duplicates and broken JSON', async () => {
    const config = shipped();
    config['connections'][0].jit.verifiedDomain = ['acme.test'];
    expect(await errorOf(write(config))).toMatch(/jit.*verifiedDomain/);
    const twice = shipped();
    twice['connections'][1].id = 'acme-oidc';
    twice['connections'][1].protocol = 'oidc';
    twice['connections'][1].protocolOptions = twice['connections'][0].protocolOptions;
    expect(await errorOf(write(twice))).toContain('connection "acme-oidc" is listed twice');
    expect(await errorOf(write('{ "tenants": [ '))).toContain('not valid JSON');
    expect(await errorOf(write({ tenants: [], connections: [] }))).toContain(
      '"tenants" must list at least one tenant',
    );
    expect(await errorOf(write({ ...shipped(), extra: 1 }))).toContain('unknown key "extra"');
  });

  it('stops the start-up with the error and leaves nothing running', async () => {
    const config = shipped();
    config['connections'][0].protocol = 'ldap';
    const file = write(config);
    const port = await freePort();
    await expect(startSample({ port, databaseUrl: 'sqlite::memory:', configPath: file })).rejects.toThrow(
      /Configuration error in .*config-\d+\.json: Invalid connection "acme-oidc": protocol: Invalid option/,
    );
    // The port is free again.
    const server = createServer();
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(port, '127.0.0.1', resolve),
    );
    await new Promise((resolve) => server.close(resolve));
  });
});
