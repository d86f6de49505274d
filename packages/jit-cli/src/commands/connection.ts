import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import {
  defineConnection,
  defineTenant,
  PRESET_NAMES,
  type ConnectionInput,
  type PresetName,
} from '@jit-sso/core';
import {
  checkConfig,
  readJsonFile,
  readProtocolSettings,
  writeJsonFile,
  type ConfigFile,
} from '../config.js';
import { CliError, UsageError } from '../errors.js';
import { note, write, type CliIo } from '../io.js';
import {
  detectOidcPreset,
  detectSamlPreset,
  discoveryUrlOf,
  isSamlMetadataSigned,
  parseOidcDiscovery,
  parseSamlMetadata,
  verifySamlMetadataSignature,
  type SamlIdpMetadata,
} from '../metadata.js';
import { renderTable } from '../output.js';
import type { CommandContext } from '../program.js';

const isUrl = (value: string) => /^https?:\/\//i.test(value);
const MAX_DOCUMENT_BYTES = 10_000_000;

/**
 * Certificates and issuers read over plain HTTP could be swapped by anyone on the path, so only
 * https is accepted, except on this machine (development identity providers).
 */
function requireHttps(url: string): void {
  const { protocol, hostname } = new URL(url);
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
  if (protocol !== 'https:' && !loopback) {
    throw new UsageError(`Refusing ${url}: identity-provider metadata must come over https.`, {
      hint: 'Use the https URL, or download the document and pass the file.',
    });
  }
}

async function fetchText(url: string, accept: string): Promise<string> {
  requireHttps(url);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept },
      redirect: 'follow',
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CliError('FETCH_FAILED', `Cannot fetch ${url}: ${cause}.`, { cause: error });
  }
  if (!response.ok) {
    throw new CliError(
      'FETCH_FAILED',
      `Fetching ${url} answered HTTP ${response.status} ${response.statusText}.`,
    );
  }
  // Metadata is a few kilobytes (aggregates a few megabytes); refuse to buffer an endless answer.
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      throw new CliError(
        'FETCH_FAILED',
        `${url} answered more than ${MAX_DOCUMENT_BYTES / 1_000_000} MB; refusing it.`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface ImportOptions {
  tenant: string;
  samlMetadata?: string;
  metadataCert?: string;
  oidcDiscovery?: string;
  id?: string;
  domain?: string[];
  mode: 'create' | 'link-only' | 'off';
  preset?: PresetName;
  entityId?: string;
  appUrl?: string;
  spEntityId?: string;
  acsUrl?: string;
  clientId?: string;
  clientSecretEnv?: string;
  redirectUri?: string;
  allowedTenantId?: string[];
  config?: string;
  replace?: boolean;
}

const day = 86_400_000;

const readTextFile = (path: string) =>
  readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError('FILE_UNREADABLE', `Cannot read ${path}: ${error.code ?? error.message}.`);
  });

/** The PEM certificate the metadata's signature is checked against. */
async function readMetadataCert(path: string): Promise<X509Certificate> {
  const text = await readTextFile(path);
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length !== 1) {
    throw new CliError(
      'CERTIFICATE_INVALID',
      `${path} must hold exactly one PEM certificate (-----BEGIN CERTIFICATE-----); it holds ${pems.length}.`,
    );
  }
  try {
    return new X509Certificate(pems[0]!);
  } catch (error) {
    throw new CliError(
      'CERTIFICATE_INVALID',
      `${path} is not a valid X.509 certificate (${(error as Error).message}).`,
    );
  }
}

function describeSaml(io: CliIo, metadata: SamlIdpMetadata): void {
  const now = io.now().getTime();
  for (const cert of metadata.certificates) {
    const state =
      cert.validTo.getTime() < now
        ? 'EXPIRED'
        : cert.validTo.getTime() < now + 30 * day
          ? 'expires soon'
          : 'valid';
    note(io, `  signing certificate ${cert.subject}, valid to ${cert.validTo.toISOString()} (${state})`);
  }
  if (metadata.certificates.every((c) => c.validTo.getTime() < now)) {
    throw new CliError(
      'METADATA_INVALID',
      `Every signing certificate of "${metadata.entityId}" has expired.`,
      {
        hint: 'Download fresh metadata from the identity provider.',
      },
    );
  }
  if (metadata.validUntil && metadata.validUntil.getTime() < now) {
    note(io, `  warning: the metadata itself expired on ${metadata.validUntil.toISOString()}`);
  }
  if (metadata.nameIdFormats.length && metadata.nameIdFormats.every((f) => f.endsWith(':transient'))) {
    note(io, '  warning: the IdP offers only transient NameIDs, which cannot identify a user');
  }
}

/** An absolute http(s) URL, or a usage error naming the option. */
function httpUrl(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${option} takes an absolute URL, not "${value}".`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${option} takes an http(s) URL, not "${value}".`);
  }
  return value;
}

/**
 * The service provider's side of the connection, which IdP metadata cannot tell: explicit options,
 * else derived from `--app-url` and the routes the adapters document (`/auth/saml/:connection/acs`,
 * `/auth/oidc/:connection/callback`, `/auth/saml/:connection/metadata`).
 */
function appSide(options: ImportOptions, connectionId: string, protocol: 'saml' | 'oidc') {
  const foreign =
    protocol === 'saml'
      ? (['clientId', 'clientSecretEnv', 'redirectUri'] as const)
      : (['spEntityId', 'acsUrl'] as const);
  const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const misplaced = foreign.filter((key) => options[key] !== undefined);
  if (misplaced.length) {
    throw new UsageError(
      `${misplaced.map(flag).join(', ')} ${misplaced.length > 1 ? 'are' : 'is'} for ${protocol === 'saml' ? 'OIDC' : 'SAML'} connections.`,
    );
  }
  const app = options.appUrl ? httpUrl(options.appUrl, '--app-url').replace(/\/+$/, '') : null;
  const route = (path: string) =>
    app ? `${app}/auth/${protocol}/${encodeURIComponent(connectionId)}/${path}` : undefined;
  return {
    spEntityId: options.spEntityId ?? route('metadata'),
    acsUrl: options.acsUrl ? httpUrl(options.acsUrl, '--acs-url') : route('acs'),
    redirectUri: options.redirectUri ? httpUrl(options.redirectUri, '--redirect-uri') : route('callback'),
  };
}

function requireOptions(protocol: string, missing: Array<[string, unknown]>): void {
  const absent = missing.filter(([, value]) => value === undefined).map(([name]) => name);
  if (absent.length) {
    throw new UsageError(
      `A ${protocol} connection needs ${absent.join(' and ')}, which the identity provider's metadata cannot tell.`,
      { hint: "Pass them, or --app-url to derive the adapters' usual routes from the app's URL." },
    );
  }
}

async function importConnection(io: CliIo, options: ImportOptions): Promise<void> {
  if (Boolean(options.samlMetadata) === Boolean(options.oidcDiscovery)) {
    throw new UsageError('Give exactly one of --saml-metadata and --oidc-discovery.');
  }
  if (options.metadataCert !== undefined && !options.samlMetadata) {
    throw new UsageError('--metadata-cert verifies SAML metadata; it goes with --saml-metadata.');
  }
  if (options.mode !== 'off' && !options.domain?.length) {
    throw new UsageError(
      'List the email domains this tenant has verified with --domain (or import with --mode off).',
    );
  }
  let connection: ConnectionInput;
  if (options.samlMetadata) {
    const source = options.samlMetadata;
    // Read before fetching, so that a wrong certificate path fails without a network round trip.
    const signer = options.metadataCert ? await readMetadataCert(options.metadataCert) : null;
    const xml = isUrl(source)
      ? await fetchText(source, 'application/samlmetadata+xml, application/xml, text/xml')
      : await readTextFile(source);
    // With a certificate, only the XML its signature covers is read.
    const trusted = signer ? verifySamlMetadataSignature(xml, signer.toString()) : xml;
    const metadata = parseSamlMetadata(trusted, options.entityId ? { entityId: options.entityId } : {});
    const preset = options.preset ?? detectSamlPreset(metadata.entityId, metadata.ssoUrl);
    const id = options.id ?? `${options.tenant}-${preset}`;
    note(io, `SAML identity provider ${metadata.entityId} (preset ${preset})`);
    if (signer) {
      note(io, `  metadata signature verified with ${signer.subject.replace(/\n/g, ', ')}`);
    } else {
      note(
        io,
        isSamlMetadataSigned(xml)
          ? '  warning: the metadata signature was not verified; pass --metadata-cert <file> to verify it'
          : '  warning: the metadata is unsigned; its certificates are trusted as read',
      );
    }
    note(io, `  single sign-on ${metadata.ssoUrl}`);
    describeSaml(io, metadata);
    const sp = appSide(options, id, 'saml');
    requireOptions('SAML', [
      ['--sp-entity-id', sp.spEntityId],
      ['--acs-url', sp.acsUrl],
    ]);
    connection = {
      id,
      tenantId: options.tenant,
      protocol: 'saml',
      issuer: metadata.entityId,
      preset,
      jit: { mode: options.mode, verifiedDomains: options.domain ?? [] },
      protocolOptions: {
        saml: {
          entryPoint: metadata.ssoUrl,
          idpCert: metadata.certificates.map((c) => c.pem),
          spEntityId: sp.spEntityId,
          acsUrl: sp.acsUrl,
          // Entra ID signs the assertion, not the response, unless configured otherwise.
          ...(preset === 'entra' ? { wantAuthnResponseSigned: false } : {}),
        },
      },
    };
  } else {
    const discoveryUrl = discoveryUrlOf(options.oidcDiscovery!);
    if (!isUrl(discoveryUrl)) throw new UsageError('--oidc-discovery takes an http(s) URL.');
    const text = await fetchText(discoveryUrl, 'application/json');
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new CliError('DISCOVERY_INVALID', `The discovery document at ${discoveryUrl} is not JSON.`);
    }
    const discovery = parseOidcDiscovery(document, discoveryUrl);
    if (discovery.multiTenant && !options.allowedTenantId?.length) {
      throw new UsageError(
        `The issuer "${discovery.issuer}" admits every Microsoft Entra tenant; list the tenants to admit with --allowed-tenant-id.`,
      );
    }
    const preset = options.preset ?? detectOidcPreset(discovery.issuer);
    const id = options.id ?? `${options.tenant}-${preset}`;
    const app = appSide(options, id, 'oidc');
    requireOptions('OIDC', [
      ['--client-id', options.clientId],
      ['--redirect-uri', app.redirectUri],
    ]);
    let clientSecret: string | undefined;
    if (options.clientSecretEnv !== undefined) {
      clientSecret = io.env[options.clientSecretEnv];
      if (!clientSecret) {
        throw new UsageError(`The environment variable ${options.clientSecretEnv} is not set or empty.`, {
          hint: 'It holds the client secret, kept out of the command line.',
        });
      }
    }
    // A multi-tenant issuer carries a {tenantid} template; the adapters discover from the URL the
    // document was fetched at (…/organizations/v2.0), and check each token's tid against the list.
    const issuer = discovery.multiTenant
      ? discoveryUrl.replace(/\/\.well-known\/openid-configuration$/, '')
      : discovery.issuer;
    const insecure = new URL(discoveryUrl).protocol === 'http:';
    note(io, `OpenID provider ${discovery.issuer} (preset ${preset})`);
    if (insecure)
      note(io, '  warning: plain-http issuer, allowed for development only (allowInsecureRequests)');
    connection = {
      id,
      tenantId: options.tenant,
      protocol: 'oidc',
      issuer,
      preset,
      jit: { mode: options.mode, verifiedDomains: options.domain ?? [] },
      ...(options.allowedTenantId?.length ? { allowedTenantIds: options.allowedTenantId } : {}),
      protocolOptions: {
        oidc: {
          clientId: options.clientId,
          ...(clientSecret ? { clientSecret } : {}),
          redirectUri: app.redirectUri,
          ...(insecure ? { allowInsecureRequests: true } : {}),
        },
      },
    };
  }
  // What we write must pass the same validation the app and its adapter apply at start-up.
  readProtocolSettings(defineConnection(connection));
  defineTenant({ id: options.tenant });

  if (!options.config) {
    await write(
      io.stdout,
      `${JSON.stringify({ tenants: [{ id: options.tenant }], connections: [connection] }, null, 2)}\n`,
    );
    return;
  }
  let file: ConfigFile = { tenants: [], connections: [] };
  const existing = await readJsonFile(options.config).catch((error: CliError) => {
    if (error.code === 'FILE_UNREADABLE' && (error.cause as NodeJS.ErrnoException)?.code === 'ENOENT')
      return null;
    throw error;
  });
  if (existing !== null) {
    const problems = checkConfig(existing).filter((p) => p.severity === 'error');
    if (problems.length) {
      throw new CliError(
        'CONFIG_INVALID',
        `${options.config} has errors; fix them before importing into it:\n${problems.map((p) => `  ${p.where}: ${p.message}`).join('\n')}`,
      );
    }
    file = existing as ConfigFile;
    file.tenants ??= [];
  }
  const at = file.connections.findIndex((c) => c.id === connection.id);
  if (at >= 0 && !options.replace) {
    throw new CliError(
      'CONNECTION_EXISTS',
      `${options.config} already has a connection "${connection.id}".`,
      {
        hint: 'Pass --replace to overwrite it, or --id to import under another id.',
      },
    );
  }
  if (at >= 0) file.connections[at] = connection;
  else file.connections.push(connection);
  if (!file.tenants.some((t) => t.id === options.tenant)) file.tenants.push({ id: options.tenant });
  await writeJsonFile(options.config, file);
  note(io, `${at >= 0 ? 'Replaced' : 'Added'} connection "${connection.id}" in ${options.config}`);
}

async function checkConnectionFile(io: CliIo, path: string, json: boolean): Promise<number> {
  const problems = checkConfig(await readJsonFile(path), io.now());
  const errors = problems.filter((p) => p.severity === 'error').length;
  if (json) {
    await write(io.stdout, `${JSON.stringify({ file: path, valid: errors === 0, problems }, null, 2)}\n`);
  } else if (problems.length) {
    await write(
      io.stdout,
      renderTable(
        ['severity', 'where', 'problem'],
        problems.map((p) => [p.severity, p.where, p.message]),
      ),
    );
  }
  if (!json) {
    note(
      io,
      errors
        ? `${path}: ${errors} error(s), ${problems.length - errors} warning(s)`
        : `${path}: valid${problems.length ? ` (${problems.length} warning(s))` : ''}`,
    );
  }
  return errors ? 1 : 0;
}

export function registerConnectionCommands(program: Command, ctx: CommandContext): void {
  const connection = program
    .command('connection')
    .description('Import identity-provider metadata into a connection config file, and check config files.');

  connection
    .command('import')
    .description(
      'Read SAML IdP metadata (file or URL) or an OIDC discovery document and write a connection with the attribute-mapping preset it detects.',
    )
    .requiredOption('--tenant <id>', 'the tenant the connection belongs to')
    .option('--saml-metadata <file-or-url>', 'SAML 2.0 IdP metadata XML')
    .option(
      '--metadata-cert <file>',
      "SAML: verify the metadata's signature against this PEM certificate before importing",
    )
    .option('--oidc-discovery <url>', 'OIDC issuer URL or its /.well-known/openid-configuration URL')
    .option('--domain <domain...>', 'email domains the tenant has verified (jit.verifiedDomains)')
    .option('--id <connection-id>', 'connection id (default: <tenant>-<preset>)')
    .addOption(
      new Option('--mode <mode>', 'JIT mode').choices(['create', 'link-only', 'off']).default('create'),
    )
    .addOption(new Option('--preset <name>', 'override the detected mapping preset').choices(PRESET_NAMES))
    .option('--entity-id <id>', 'pick one IdP from aggregate SAML metadata')
    .option(
      '--app-url <url>',
      "the app's URL: derives --sp-entity-id, --acs-url and --redirect-uri from the adapters' usual routes (/auth/<protocol>/<connection-id>/…)",
    )
    .option('--sp-entity-id <id>', "SAML: the app's entity id, the audience every assertion must name")
    .option('--acs-url <url>', "SAML: the app's Assertion Consumer Service URL for this connection")
    .option('--client-id <id>', 'OIDC: the client id the provider issued to the app')
    .option(
      '--client-secret-env <variable>',
      'OIDC: read the client secret from this environment variable (none: a public client using PKCE)',
    )
    .option(
      '--redirect-uri <url>',
      "OIDC: the app's callback URL for this connection, registered at the provider",
    )
    .option('--allowed-tenant-id <tid...>', 'Entra tenant ids admitted by a multi-tenant issuer')
    .option(
      '--config <file>',
      'add the connection to this config file (created if missing) instead of printing it',
    )
    .option('--replace', 'replace a connection with the same id in --config')
    .action(ctx.action(async (options: ImportOptions) => importConnection(ctx.io, options)));

  connection
    .command('check')
    .description(
      'Validate a config file ({ "tenants": [...], "connections": [...] }) and print readable errors.',
    )
    .argument('<file>', 'the config file')
    .option('--json', 'print the result as JSON')
    .action(
      ctx.action(async (file: string, options: { json?: boolean }) =>
        checkConnectionFile(ctx.io, file, Boolean(options.json)),
      ),
    );
}
