import type { Command } from 'commander';
import { createProvisioner, tryNormaliseEmail, type UserRecord } from '@jit-sso/core';
import { CliError } from '../errors.js';
import { confirm, listForConfirmation, note, write } from '../io.js';
import { readLeavers, type LeaverRow } from '../leavers.js';
import { renderTable } from '../output.js';
import { startProgress } from '../progress.js';
import { findUsersBy } from '../users.js';
import type { CommandContext, DatabaseOptions } from '../program.js';

type Outcome =
  | 'deactivated'
  | 'would-deactivate'
  | 'already-deactivated'
  | 'duplicate'
  | 'unknown'
  | 'ambiguous'
  | 'invalid';

interface RowResult {
  line: number;
  email: string | null;
  externalId: string | null;
  tenant: string | null;
  outcome: Outcome;
  userId: string | null;
  message: string;
}

interface OffboardOptions extends DatabaseOptions {
  csv: string;
  tenant?: string;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
  reason: string;
}

const FAILED: ReadonlySet<Outcome> = new Set(['unknown', 'ambiguous', 'invalid']);

export function registerOffboardCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  ctx
    .database(program.command('offboard'))
    .description(
      'Deactivate the people listed in a CSV (columns: email and/or external_id, optional tenant). Reports unknown and ambiguous rows; never deletes data.',
    )
    .requiredOption('--csv <file>', 'the leavers file (UTF-8, header row, comma-separated; a BOM is fine)')
    .option('--tenant <id>', 'only look in this tenant (rows may also name a tenant)')
    .option('--dry-run', 'report what would happen; change nothing')
    .option('--reason <text>', 'recorded in each audit event', 'offboarding')
    .option('--json', 'print the per-row report as JSON')
    .option('--yes', 'do not ask for confirmation')
    .action(
      ctx.action(async (options: OffboardOptions) => {
        const { store } = await ctx.backend(options, { readOnly: Boolean(options.dryRun) });
        const results: RowResult[] = [];
        const claimed = new Map<string, number>();
        const pending: Array<{ result: RowResult; user: UserRecord }> = [];

        for await (const row of readLeavers(options.csv)) {
          const result = await resolveRow(row);
          results.push(result.result);
          if (result.user) pending.push({ result: result.result, user: result.user });
        }

        async function resolveRow(row: LeaverRow): Promise<{ result: RowResult; user?: UserRecord }> {
          const result: RowResult = { ...row, outcome: 'invalid', userId: null, message: '' };
          const fail = (outcome: Outcome, message: string) => ({
            result: Object.assign(result, { outcome, message }),
          });
          if (options.tenant && row.tenant && row.tenant !== options.tenant) {
            return fail(
              'invalid',
              `the row names tenant "${row.tenant}" but --tenant is "${options.tenant}"`,
            );
          }
          const tenantId = row.tenant ?? options.tenant;
          if (!row.email && !row.externalId) return fail('invalid', 'neither an email nor an external id');
          const email = row.email ? tryNormaliseEmail(row.email) : null;
          if (row.email && !email) return fail('invalid', `"${row.email}" is not an email address`);
          const matches = new Map<string, UserRecord>();
          if (email) for (const u of await findUsersBy(store, { email }, tenantId)) matches.set(u.id, u);
          if (row.externalId) {
            for (const u of await findUsersBy(store, { externalId: row.externalId }, tenantId))
              matches.set(u.id, u);
          }
          if (matches.size === 0)
            return fail('unknown', `no user${tenantId ? ` in tenant "${tenantId}"` : ''}`);
          if (matches.size > 1) {
            const who = [...matches.values()].map((u) => `${u.email} [${u.tenantId}] ${u.id}`).join('; ');
            return fail('ambiguous', `matches ${matches.size} users: ${who}`);
          }
          const user = [...matches.values()][0]!;
          result.userId = user.id;
          const earlier = claimed.get(user.id);
          if (earlier !== undefined) return fail('duplicate', `same user as line ${earlier}`);
          claimed.set(user.id, row.line);
          if (user.status === 'deactivated')
            return fail('already-deactivated', `${user.email} [${user.tenantId}]`);
          result.outcome = options.dryRun ? 'would-deactivate' : 'deactivated';
          result.message = `${user.email} [${user.tenantId}]`;
          return { result, user };
        }

        if (!options.dryRun && pending.length > 0) {
          const ok = await confirm(
            io,
            `Deactivate ${pending.length} user(s) listed in ${options.csv}:`,
            options.yes,
            listForConfirmation(
              pending.map(({ user }) => `${user.email} [${user.tenantId}] (${user.id})`),
              pending.length,
            ),
          );
          if (!ok) {
            note(io, 'Nothing changed.');
            return 1;
          }
          const provisioner = createProvisioner({ store, connections: [] });
          const progress = startProgress(io, 'deactivating', pending.length);
          for (const { user } of pending) {
            await provisioner.deactivateUser(user.id, { actor: 'admin', reason: options.reason });
            progress.tick();
          }
          progress.stop();
        }

        const counts: Partial<Record<Outcome, number>> = {};
        for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
        const summary = Object.entries(counts)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ');
        if (options.json) {
          await write(
            io.stdout,
            `${JSON.stringify({ dryRun: Boolean(options.dryRun), counts, rows: results }, null, 2)}\n`,
          );
        } else if (results.length) {
          await write(
            io.stdout,
            renderTable(
              ['line', 'email', 'external_id', 'tenant', 'outcome', 'detail'],
              results.map((r) => [
                String(r.line),
                r.email ?? '',
                r.externalId ?? '',
                r.tenant ?? '',
                r.outcome,
                r.message,
              ]),
            ),
          );
        }
        note(
          io,
          `${options.dryRun ? '[dry run] ' : ''}${results.length} row(s): ${summary || 'nothing to do'}`,
        );
        const failed = results.filter((r) => FAILED.has(r.outcome)).length;
        if (failed) {
          throw new CliError(
            'ROWS_NOT_APPLIED',
            `${failed} row(s) could not be matched to exactly one user.`,
            {
              hint: `Check the rows reported as unknown, ambiguous or invalid; the others ${options.dryRun ? 'would be' : 'were'} processed.`,
            },
          );
        }
      }),
    );
}
