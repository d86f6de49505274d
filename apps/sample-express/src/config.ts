import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ConfigurationError,
  defineConnection,
  defineTenant,
  isJitError,
  type Connection,
  type ConnectionInput,
  type TenantInput,
} from '@jit-sso/core';
import { readOidcSettings } from '@jit-sso/express';
import { readSamlSettings } from '@jit-sso/express/protocol';

/** The sample's configuration file: the organisations and their identity provider connections. */
export interface SampleConfig {
  tenants: TenantInput[];
  connections: ConnectionInput[];
}

/**
 * Placeholders that string values of the file may use, filled in at start-up:
 * `${APP_URL}`, `${DEV_IDP_URL}`, `${DEV_IDP_SAML_CERT}`.
 */
export type ConfigVariables = Record<string, string>;

export const DEFAULT_CONFIG_PATH = new URL('../config/connections.json', import.meta.url);

/** Replaces `${NAME}` in every string of `value`; an unknown name is an error that names it. */
export function substitute(value: unknown, variables: ConfigVariables, path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_m, name: string) => {
      const found = variables[name];
      if (found === undefined) {
        throw new ConfigurationError(
          `${path || '(root)'}: unknown placeholder \${${name}}; known: ${Object.keys(variables)
            .map((k) => `\${${k}}`)
            .join(', ')}`,
        );
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, variables, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, variables, path ? `${path}.${k}` : k)]),
    );
  }
  return value;
}

async function readConfigFile(file: string): Promise<unknown> {
  const ext = extname(file);
  if (ext === '.json') {
    const text = await readFile(file, 'utf8');
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigurationError(`not valid JSON: ${(error as Error).message}`);
    }
  }
  if (['.ts', '.mts', '.js', '.mjs'].includes(ext)) {
    const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    if (module.default === undefined) throw new ConfigurationError('the module has no default export');
    return module.default;
  }
  throw new ConfigurationError(`use a .json, .ts or .js file, not "${ext || 'no extension'}"`);
}

/**
 * Checks a configuration completely, as the app will use it: each tenant and connection through the
 * engine's own validation, the protocol settings through the adapter's, and the references between
 * them. Returns the validated connections.
 */
export function validateConfig(raw: unknown): { config: SampleConfig; connections: Connection[] } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigurationError('expected an object { "tenants": [...], "connections": [...] }');
  }
  const { tenants, connections, ...rest } = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(rest);
  if (unknownKeys.length) {
    throw new ConfigurationError(
      `unknown key ${unknownKeys.map((k) => `"${k}"`).join(', ')}; expected "tenants" and "connections"`,
    );
  }
  if (!Array.isArray(tenants) || tenants.length === 0)
    throw new ConfigurationError('"tenants" must list at least one tenant');
  if (!Array.isArray(connections) || connections.length === 0) {
    throw new ConfigurationError('"connections" must list at least one connection');
  }
  const tenantIds = new Set<string>();
  tenants.forEach((input: TenantInput, i) => {
    const tenant = defineTenant(input);
    if (tenantIds.has(tenant.id))
      throw new ConfigurationError(`tenants[${i}]: tenant "${tenant.id}" is listed twice`);
    tenantIds.add(tenant.id);
  });
  const seen = new Set<string>();
  const defined = connections.map((input: ConnectionInput, i) => {
    const connection = defineConnection(input);
    if (seen.has(connection.id))
      throw new ConfigurationError(`connections[${i}]: connection "${connection.id}" is listed twice`);
    seen.add(connection.id);
    if (!tenantIds.has(connection.tenantId)) {
      throw new ConfigurationError(
        `connection "${connection.id}": tenantId "${connection.tenantId}" is not one of the tenants (${[...tenantIds].join(', ')})`,
      );
    }
    if (connection.protocol === 'saml') readSamlSettings(connection);
    else readOidcSettings(connection);
    return connection;
  });
  return { config: { tenants, connections } as SampleConfig, connections: defined };
}

/** Reads, fills in and validates a configuration file; every error names the file. */
export async function loadConfig(
  file: string | URL,
  variables: ConfigVariables,
): Promise<{ config: SampleConfig; connections: Connection[] }> {
  const path = file instanceof URL ? file.pathname : resolve(file);
  try {
    return validateConfig(substitute(await readConfigFile(path), variables));
  } catch (error) {
    const reason = isJitError(error) ? error.message : (error as Error).message;
    throw new ConfigurationError(`Configuration error in ${path}: ${reason}`, { cause: error });
  }
}

/** The name a connection's sign-in button shows (`protocolOptions.displayName`, else its id). */
export function displayNameOf(connection: Connection): string {
  const name = connection.protocolOptions['displayName'];
  return typeof name === 'string' && name.trim() ? name : connection.id;
}
