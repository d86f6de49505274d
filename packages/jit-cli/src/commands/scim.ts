import type { Command } from 'commander';
import {
  auditEvent,
  isDirectoryStore,
  type DirectoryRecord,
  type DirectoryStore,
  type DirectoryTokenRecord,
} from '@jit-sso/core';
import { createDirectory, issueDirectoryToken } from '@jit-sso/scim';
import { CliError, UsageError } from '../errors.js';
import { confirm, note, write } from '../io.js';
import { createRecordWriter } from '../output.js';
import type { CommandContext, DatabaseOptions } from '../program.js';

interface TokenOptions extends DatabaseOptions {
  tenant: string;
  directory?: string;
  json?: boolean;
}

function directoryStore(store: unknown): DirectoryStore {
  if (!isDirectoryStore(store as DirectoryStore)) {
    throw new CliError('STORE_UNSUPPORTED', 'This store keeps no SCIM directories.', {
      hint: 'Upgrade @jit-sso/typeorm to a version with SCIM directory support and run jit migrate.',
    });
  }
  return store as DirectoryStore;
}

/** The tenant's directory: the one named with --directory, or its only one. */
async function tenantDirectory(
  store: DirectoryStore,
  tenantId: string,
  id?: string,
): Promise<DirectoryRecord | null> {
  const directories = await store.listDirectories(tenantId);
  if (id !== undefined) {
    const found = directories.find((d) => d.id === id);
    if (!found)
      throw new CliError('DIRECTORY_NOT_FOUND', `Tenant "${tenantId}" has no SCIM directory "${id}".`);
    return found;
  }
  if (directories.length > 1) {
    throw new UsageError(
      `Tenant "${tenantId}" has ${directories.length} SCIM directories (${directories.map((d) => d.id).join(', ')}); choose one with --directory.`,
    );
  }
  return directories[0] ?? null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : '');

export function registerScimCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const scim = program.command('scim').description('SCIM directories of tenants.');
  const token = scim
    .command('token')
    .description('Bearer tokens an identity provider uses to provision users over SCIM.');

  ctx
    .database(token.command('create'))
    .description(
      "Issue a token for the tenant's directory (created on first use). The token is printed once, on stdout; only its SHA-256 hash is stored.",
    )
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--directory <id>', 'the directory, when the tenant has several')
    .option('--label <text>', 'a name to recognise the token by (e.g. "Okta production")', '')
    .option(
      '--connection <id>',
      'when creating the directory: the connection whose role rules map its groups',
    )
    .option('--json', 'print the token and its record as JSON')
    .action(
      ctx.action(async (options: TokenOptions & { label: string; connection?: string }) => {
        const store = directoryStore((await ctx.backend(options)).store);
        let directory = await tenantDirectory(store, options.tenant, options.directory);
        if (!directory) {
          directory = await createDirectory(store, {
            tenantId: options.tenant,
            connectionId: options.connection ?? null,
          });
          note(io, `Created SCIM directory ${directory.id} for tenant "${options.tenant}".`);
        }
        const { token: secret, record } = await issueDirectoryToken(store, directory.id, {
          label: options.label,
        });
        if (options.json) {
          await write(
            io.stdout,
            `${JSON.stringify({ token: secret, id: record.id, directoryId: record.directoryId, label: record.label, createdAt: iso(record.createdAt) })}\n`,
          );
        } else {
          await write(io.stdout, `${secret}\n`);
        }
        note(
          io,
          `Token ${record.id} for directory ${directory.id}. Copy it now: it is not stored and cannot be shown again.`,
        );
      }),
    );

  ctx
    .database(token.command('list'))
    .description("List the tenant's directory tokens (never the tokens themselves).")
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--json', 'JSON array')
    .action(
      ctx.action(async (options: TokenOptions) => {
        const store = directoryStore((await ctx.backend(options, { readOnly: true })).store);
        const out = createRecordWriter<DirectoryTokenRecord>(
          io,
          options.json ? 'json' : 'table',
          [
            { header: 'id', value: (t) => t.id },
            { header: 'directory', value: (t) => t.directoryId },
            { header: 'label', value: (t) => t.label },
            { header: 'createdAt', value: (t) => iso(t.createdAt) },
            { header: 'status', value: (t) => (t.revokedAt ? `revoked ${iso(t.revokedAt)}` : 'active') },
          ],
          (t) => ({
            id: t.id,
            directoryId: t.directoryId,
            label: t.label,
            createdAt: iso(t.createdAt),
            revokedAt: t.revokedAt ? iso(t.revokedAt) : null,
          }),
        );
        for (const directory of await store.listDirectories(options.tenant)) {
          await out.write(await store.listTokens(directory.id));
        }
        await out.end();
      }),
    );

  ctx
    .database(token.command('revoke'))
    .description(
      'Revoke a token at once (audited); the directory stops authenticating with it. Asks first unless --yes.',
    )
    .argument('<token-id>', 'the id shown by "jit scim token list"')
    .requiredOption('--tenant <id>', 'the tenant the token belongs to')
    .option('--yes', 'do not ask for confirmation')
    .action(
      ctx.action(async (tokenId: string, options: TokenOptions & { yes?: boolean }) => {
        const store = directoryStore((await ctx.backend(options)).store);
        let found: { token: DirectoryTokenRecord; directory: DirectoryRecord } | null = null;
        for (const directory of await store.listDirectories(options.tenant)) {
          const token = (await store.listTokens(directory.id)).find((t) => t.id === tokenId);
          if (token) found = { token, directory };
        }
        if (!found)
          throw new CliError('TOKEN_NOT_FOUND', `Tenant "${options.tenant}" has no SCIM token "${tokenId}".`);
        if (found.token.revokedAt) {
          note(io, `Token ${tokenId} was already revoked on ${iso(found.token.revokedAt)}.`);
          return;
        }
        const label = found.token.label ? ` ("${found.token.label}")` : '';
        if (
          !(await confirm(
            io,
            `Revoke SCIM token ${tokenId}${label} of tenant "${options.tenant}"?`,
            options.yes,
          ))
        ) {
          note(io, 'Nothing changed.');
          return 1;
        }
        const { directory } = found;
        await store.directoryTransaction(async (tx) => {
          const at = io.now();
          await tx.revokeToken(tokenId, at);
          await tx.appendAudit(
            auditEvent({
              at,
              tenantId: directory.tenantId,
              actor: 'admin',
              action: 'deleted',
              connectionId: directory.connectionId,
              reason: 'scim-token',
              changes: [{ field: 'token', from: tokenId, to: null }],
            }),
          );
        });
        await write(io.stdout, `revoked ${tokenId}\n`);
      }),
    );
}
