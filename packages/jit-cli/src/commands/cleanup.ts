import { Option, type Command } from 'commander';
import { createProvisioner, type UserRecord } from '@jit-sso/core';
import { CONFIRM_LIST_LIMIT, confirm, listForConfirmation, note, write } from '../io.js';
import { startProgress } from '../progress.js';
import { parsePositiveInt } from '../parse.js';
import type { CommandContext, DatabaseOptions } from '../program.js';

interface DormantOptions extends DatabaseOptions {
  tenant: string;
  inactiveDays: number;
  dryRun?: boolean;
  excludeRole?: string[];
  yes?: boolean;
  json?: boolean;
  list?: boolean;
  batchSize: number;
}

const DAY = 86_400_000;

export function registerCleanupCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const cleanup = program.command('cleanup').description('Periodic clean-ups to run from cron or CI.');
  ctx
    .database(cleanup.command('dormant'))
    .description(
      'Deactivate active users of a tenant not seen for N days (never-signed-in users counted from creation); audited, with a summary.',
    )
    .requiredOption('--tenant <id>', 'the tenant to clean up')
    .requiredOption(
      '--inactive-days <days>',
      'dormant when the last sign-in is older than this',
      parsePositiveInt,
    )
    .option('--dry-run', 'report what would be deactivated; change nothing')
    .option('--exclude-role <role...>', 'keep users holding any of these roles')
    .option('--list', 'print each dormant user (id, email, last seen) on stdout')
    .option('--json', 'print the summary as JSON')
    .option('--yes', 'do not ask for confirmation')
    .addOption(
      new Option('--batch-size <n>', 'users per transaction')
        .argParser(parsePositiveInt)
        .default(500)
        .hideHelp(),
    )
    .action(
      ctx.action(async (options: DormantOptions) => {
        const dryRun = Boolean(options.dryRun);
        const { store } = await ctx.backend(options, { readOnly: dryRun });
        const notSeenSince = new Date(io.now().getTime() - options.inactiveDays * DAY);
        const candidates = (
          await store.countUsers({ tenantId: options.tenant, status: 'active', notSeenSince })
        ).active;
        const excluded = options.excludeRole ?? [];
        const scope = `${candidates} active user(s) of tenant "${options.tenant}" not seen since ${notSeenSince.toISOString()}`;
        const provisioner = createProvisioner({ store, connections: [] });
        if (!dryRun && candidates > 0 && !options.yes) {
          // Who would go, read with the run's own selection (role exclusions included), changing nothing.
          const who: string[] = [];
          let count = 0;
          await provisioner.deactivateDormant({
            tenantId: options.tenant,
            notSeenSince,
            dryRun: true,
            excludeRoles: excluded,
            batchSize: options.batchSize,
            onUser: (user) => {
              if (count++ < CONFIRM_LIST_LIMIT) {
                const seen = user.lastLoginAt
                  ? `last seen ${user.lastLoginAt.toISOString()}`
                  : 'never signed in';
                who.push(`${user.email} (${user.id}), ${seen}`);
              }
            },
          });
          const kept = candidates - count;
          const question =
            `Deactivate ${count} active user(s) of tenant "${options.tenant}" not seen since ${notSeenSince.toISOString()}` +
            `${kept > 0 ? ` (${kept} kept by role ${excluded.join(', ')})` : ''}:`;
          if (count > 0 && !(await confirm(io, question, false, listForConfirmation(who, count)))) {
            note(io, 'Nothing changed.');
            return 1;
          }
        }
        const progress = startProgress(io, dryRun ? 'checking' : 'deactivating', candidates);
        const list = (user: UserRecord) => {
          io.stdout.write(
            `${user.id}\t${user.email}\t${(user.lastLoginAt ?? user.createdAt).toISOString()}${user.lastLoginAt ? '' : ' (never signed in)'}\n`,
          );
        };
        const report = await provisioner.deactivateDormant({
          tenantId: options.tenant,
          notSeenSince,
          dryRun,
          excludeRoles: excluded,
          batchSize: options.batchSize,
          onUser: (user) => {
            progress.tick();
            if (options.list) list(user);
          },
        });
        progress.stop();
        const summary = {
          tenantId: options.tenant,
          notSeenSince: notSeenSince.toISOString(),
          dryRun,
          dormant: candidates,
          deactivated: report.deactivated,
          keptByRole: report.kept,
          skipped: dryRun ? 0 : Math.max(0, candidates - report.kept - report.deactivated),
        };
        if (options.json) {
          await write(io.stdout, `${JSON.stringify(summary)}\n`);
        } else {
          const verb = dryRun ? 'would deactivate' : 'deactivated';
          note(
            io,
            `${dryRun ? '[dry run] ' : ''}${scope}: ${verb} ${summary.deactivated}, kept ${summary.keptByRole} by role` +
              (summary.skipped ? `, skipped ${summary.skipped} seen since` : ''),
          );
        }
      }),
    );
}
