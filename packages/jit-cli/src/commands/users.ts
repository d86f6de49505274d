import { Option, type Command } from 'commander';
import { createProvisioner, type AuditEvent, type TenantInput, type UserQuery } from '@jit-sso/core';
import { readJsonFile } from '../config.js';
import { UsageError } from '../errors.js';
import { confirm, listForConfirmation, note, write } from '../io.js';
import { auditJson, createRecordWriter, USER_COLUMNS, userJson, type OutputFormat } from '../output.js';
import { resolveUser } from '../users.js';
import type { CommandContext, DatabaseOptions } from '../program.js';
import { parseDate, parsePositiveInt } from '../parse.js';

interface FormatOptions {
  json?: boolean;
  csv?: boolean;
}

export function outputFormat(options: FormatOptions): OutputFormat {
  if (options.json && options.csv) throw new UsageError('Choose one of --json and --csv.');
  return options.json ? 'json' : options.csv ? 'csv' : 'table';
}

interface ListOptions extends DatabaseOptions, FormatOptions {
  tenant?: string;
  status?: 'active' | 'deactivated';
  source?: 'jit' | 'scim' | 'manual';
  lastLoginBefore?: Date;
  inactiveDays?: number;
  limit?: number;
}

interface ChangeOptions extends DatabaseOptions {
  tenant?: string;
  reason?: string;
  yes?: boolean;
  config?: string;
}

async function tenantsFrom(config: string | undefined): Promise<TenantInput[]> {
  if (!config) return [];
  const file = (await readJsonFile(config)) as { tenants?: TenantInput[] };
  return Array.isArray(file?.tenants) ? file.tenants : [];
}

export function registerUserCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const users = program.command('users').description('List, show, deactivate and reactivate users.');

  ctx
    .database(users.command('list'))
    .description('List users, filtered; a table by default, or --json / --csv (streamed, any size).')
    .option('--tenant <id>', 'only this tenant')
    .addOption(new Option('--status <status>', 'only this status').choices(['active', 'deactivated']))
    .addOption(new Option('--source <source>', 'only users created by').choices(['jit', 'scim', 'manual']))
    .option('--last-login-before <date>', 'last login (or creation, if never) before this date', parseDate)
    .addOption(
      new Option('--inactive-days <days>', 'not seen for this many days')
        .argParser(parsePositiveInt)
        .conflicts('lastLoginBefore'),
    )
    .option('--limit <n>', 'at most this many users (default: all; 1000 for the table)', parsePositiveInt)
    .option('--json', 'JSON array')
    .option('--csv', 'CSV with a header row')
    .action(
      ctx.action(async (options: ListOptions) => {
        const format = outputFormat(options);
        const { store } = await ctx.backend(options, { readOnly: true });
        const query: Omit<UserQuery, 'limit'> = {};
        if (options.tenant) query.tenantId = options.tenant;
        if (options.status) query.status = options.status;
        if (options.source) query.source = options.source;
        if (options.lastLoginBefore) query.notSeenSince = options.lastLoginBefore;
        if (options.inactiveDays)
          query.notSeenSince = new Date(io.now().getTime() - options.inactiveDays * 86_400_000);
        const limit = options.limit ?? (format === 'table' ? 1000 : Infinity);
        const out = createRecordWriter(io, format, USER_COLUMNS, userJson);
        let written = 0;
        let afterId: string | undefined;
        let more = false;
        while (written < limit) {
          const pageSize = Math.min(500, limit - written);
          const page = await store.listUsers({ ...query, afterId, limit: pageSize });
          await out.write(page);
          written += page.length;
          if (page.length < pageSize) break;
          afterId = page[page.length - 1]!.id;
          if (written >= limit) more = (await store.listUsers({ ...query, afterId, limit: 1 })).length > 0;
        }
        await out.end();
        if (format === 'table') {
          note(io, `${written} user(s)${more ? `; more match, raise --limit or use --json/--csv` : ''}`);
        }
      }),
    );

  ctx
    .database(users.command('show'))
    .description('Show one user (by id, email or external id) with identities and recent audit events.')
    .argument('<user>', 'user id, email or external id')
    .option('--tenant <id>', 'the tenant, when the email or external id exists in several')
    .option('--json', 'print as JSON')
    .action(
      ctx.action(async (ref: string, options: DatabaseOptions & { tenant?: string; json?: boolean }) => {
        const { store } = await ctx.backend(options, { readOnly: true });
        const user = await resolveUser(store, ref, options.tenant);
        const identities = await store.listIdentitiesOfUser(user.id);
        const recent: AuditEvent[] = [];
        let afterId: string | undefined;
        for (;;) {
          const page = await store.listAuditEvents({ userId: user.id, afterId, limit: 500 });
          recent.push(...page);
          recent.splice(0, Math.max(0, recent.length - 20));
          if (page.length < 500) break;
          afterId = page[page.length - 1]!.id;
        }
        if (options.json) {
          await write(
            io.stdout,
            `${JSON.stringify(
              {
                ...userJson(user),
                identities: identities.map((i) => ({ ...i, createdAt: i.createdAt.toISOString() })),
                recentEvents: recent.map(auditJson),
              },
              null,
              2,
            )}\n`,
          );
          return;
        }
        const json = userJson(user);
        const lines = Object.entries(json)
          .filter(([k]) => k !== 'roles' && k !== 'attributes')
          .map(([k, v]) => `${k.padEnd(14)}${v ?? '-'}`);
        lines.push(
          `${'roles'.padEnd(14)}${user.roles.map((g) => `${g.role} (${g.source})`).join(', ') || '-'}`,
        );
        for (const [k, v] of Object.entries(user.attributes))
          lines.push(`${`  ${k}`.padEnd(14)}${JSON.stringify(v)}`);
        lines.push('identities:');
        for (const i of identities)
          lines.push(`  ${i.connectionId}  ${i.subject}  since ${i.createdAt.toISOString()}`);
        lines.push('recent events:');
        for (const e of recent) {
          lines.push(`  ${e.at.toISOString()}  ${e.actor}  ${e.action}${e.reason ? `  (${e.reason})` : ''}`);
        }
        await write(io.stdout, `${lines.join('\n')}\n`);
      }),
    );

  for (const [name, target] of [
    ['deactivate', 'deactivated'],
    ['reactivate', 'active'],
  ] as const) {
    const command = ctx
      .database(users.command(name))
      .description(
        name === 'deactivate'
          ? 'Deactivate users (audited; their next sign-in and session check fail). Asks first unless --yes.'
          : 'Reactivate deactivated users (audited; respects the tenant seat limit from --config).',
      )
      .argument('<users...>', 'user ids, emails or external ids')
      .option('--tenant <id>', 'the tenant of the emails / external ids')
      .option('--reason <text>', 'recorded in the audit event')
      .option('--yes', 'do not ask for confirmation');
    if (name === 'reactivate')
      command.option('--config <file>', 'config file whose tenants give the seat limits');
    command.action(
      ctx.action(async (refs: string[], options: ChangeOptions) => {
        const backend = await ctx.backend(options);
        const provisioner = createProvisioner({
          store: backend.store,
          connections: [],
          tenants: await tenantsFrom(options.config),
        });
        const found = [];
        for (const ref of refs) found.push(await resolveUser(backend.store, ref, options.tenant));
        const pending = found.filter((u) => u.status !== target);
        for (const u of found) if (u.status === target) note(io, `${u.email} (${u.id}) is already ${target}`);
        if (pending.length === 0) return;
        if (name === 'deactivate') {
          const who = listForConfirmation(
            pending.map((u) => `${u.email} [${u.tenantId}] (${u.id})`),
            pending.length,
          );
          if (!(await confirm(io, `Deactivate ${pending.length} user(s):`, options.yes, who))) {
            note(io, 'Nothing changed.');
            return 1;
          }
        }
        const change = { actor: 'admin' as const, ...(options.reason ? { reason: options.reason } : {}) };
        for (const user of pending) {
          const updated =
            name === 'deactivate'
              ? await provisioner.deactivateUser(user.id, change)
              : await provisioner.reactivateUser(user.id, change);
          await write(io.stdout, `${name}d ${updated.email} (${updated.id}, tenant ${updated.tenantId})\n`);
        }
      }),
    );
  }
}
