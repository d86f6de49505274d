import { readFile, rename, writeFile } from 'node:fs/promises';
import {
  defineConnection,
  defineTenant,
  isJitError,
  type Connection,
  type ConnectionInput,
  type TenantInput,
} from '@jit-sso/core';
import { readOidcSettings, readSamlSettings } from '@jit-sso/protocol';
import { CliError } from './errors.js';
import { readCertificate } from './metadata.js';

/** The file the app and this command share: `{ "tenants": [...], "connections": [...] }`. */
export interface ConfigFile {
  tenants: TenantInput[];
  connections: ConnectionInput[];
}

export interface ConfigProblem {
  readonly severity: 'error' | 'warning';
  /** Where in the file: `connections[1] (acme-okta)`. */
  readonly where: string;
  readonly message: string;
}

export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      'FILE_UNREADABLE',
      `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new CliError('CONFIG_INVALID', `${path} is not valid JSON: ${(error as Error).message}.`);
  }
}

function messageOf(error: unknown): string[] {
  if (isJitError(error)) {
    const issues = error.details['issues'];
    if (Array.isArray(issues) && issues.length) return issues.map(String);
    return [error.message.replace(/^Invalid [^:]+: /, '')];
  }
  return [(error as Error).message];
}

/**
 * Validates a configuration with the engine's own rules (`defineTenant`, `defineConnection`), the
 * adapters' reading of each connection's `protocolOptions`, and what only a whole file can show:
 * duplicate ids, connections of unknown tenants, unreadable or expired SAML signing certificates.
 * Returns every problem found, not just the first.
 */
export function checkConfig(value: unknown, now: Date = new Date()): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const error = (where: string, message: string) => problems.push({ severity: 'error', where, message });
  const warning = (where: string, message: string) => problems.push({ severity: 'warning', where, message });
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    error('(root)', 'must be an object with "tenants" and "connections" arrays');
    return problems;
  }
  const root = value as Record<string, unknown>;
  for (const key of Object.keys(root)) {
    if (key !== 'tenants' && key !== 'connections' && key !== '$schema') error(key, 'unknown key');
  }
  const tenants = root['tenants'] ?? [];
  const connections = root['connections'];
  if (!Array.isArray(tenants)) error('tenants', 'must be an array');
  if (!Array.isArray(connections)) {
    error('connections', connections === undefined ? 'is missing' : 'must be an array');
  }
  const tenantIds = new Set<string>();
  for (const [i, tenant] of (Array.isArray(tenants) ? tenants : []).entries()) {
    const where = `tenants[${i}]${typeof tenant?.id === 'string' ? ` (${tenant.id})` : ''}`;
    try {
      const defined = defineTenant(tenant as TenantInput);
      if (tenantIds.has(defined.id)) error(where, `tenant "${defined.id}" is listed twice`);
      tenantIds.add(defined.id);
    } catch (e) {
      for (const m of messageOf(e)) error(where, m);
    }
  }
  const connectionIds = new Set<string>();
  for (const [i, input] of (Array.isArray(connections) ? connections : []).entries()) {
    const where = `connections[${i}]${typeof input?.id === 'string' ? ` (${input.id})` : ''}`;
    let connection;
    try {
      connection = defineConnection(input as ConnectionInput);
    } catch (e) {
      for (const m of messageOf(e)) error(where, m);
      continue;
    }
    if (connectionIds.has(connection.id)) error(where, `connection "${connection.id}" is listed twice`);
    connectionIds.add(connection.id);
    if (tenantIds.size > 0 && !tenantIds.has(connection.tenantId)) {
      error(where, `tenantId: tenant "${connection.tenantId}" is not in "tenants"`);
    }
    for (const key of Object.keys(connection.protocolOptions)) {
      if (key !== connection.protocol) {
        warning(
          where,
          `protocolOptions.${key}: not read by the adapters; ${connection.protocol.toUpperCase()} settings go in protocolOptions.${connection.protocol}`,
        );
      }
    }
    let settings: Record<string, unknown>;
    try {
      settings = { ...readProtocolSettings(connection) };
    } catch (e) {
      for (const m of messageOf(e)) error(where, m);
      continue;
    }
    const given = (connection.protocolOptions[connection.protocol] ?? {}) as Record<string, unknown>;
    // An optional setting can be left out; one the adapters do not know is most likely misspelt.
    const known = new Set([
      ...Object.keys(settings),
      ...(connection.protocol === 'oidc' ? ['clientSecret'] : []),
    ]);
    for (const key of Object.keys(given)) {
      if (!known.has(key)) {
        warning(where, `protocolOptions.${connection.protocol}.${key}: not a setting the adapters read`);
      }
    }
    if (connection.protocol === 'saml') {
      let current = 0;
      const certs = settings['idpCert'] as readonly string[];
      for (const [j, cert] of certs.entries()) {
        try {
          const parsed = readCertificate(cert);
          if (parsed.validTo < now) {
            warning(
              where,
              `protocolOptions.saml.idpCert[${j}]: expired on ${parsed.validTo.toISOString()} (${parsed.subject})`,
            );
          } else current++;
        } catch (e) {
          error(
            where,
            `protocolOptions.saml.idpCert[${j}]: not a PEM or base64 X.509 certificate (${(e as Error).message})`,
          );
        }
      }
      if (current === 0 && !problems.some((p) => p.where === where && p.severity === 'error')) {
        error(where, 'protocolOptions.saml.idpCert: every signing certificate has expired');
      }
    }
  }
  return problems;
}

/**
 * Reads a connection's protocol settings with the code the adapters run at start-up and at each
 * login (`@jit-sso/protocol`); throws `INVALID_CONFIGURATION` naming the field they would refuse.
 */
export function readProtocolSettings(connection: Connection): object {
  return connection.protocol === 'saml' ? readSamlSettings(connection) : readOidcSettings(connection);
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  await rename(temporary, path);
}
