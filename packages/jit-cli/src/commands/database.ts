import type { Command } from 'commander';
import { write } from '../io.js';
import { renderTable } from '../output.js';
import type { CommandContext, DatabaseOptions } from '../program.js';

export function registerDatabaseCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  ctx
    .database(program.command('migrate'))
    .description("Apply the store's pending migrations (safe to run at every deploy).")
    .action(
      ctx.action(async (options: DatabaseOptions) => {
        const backend = await ctx.backend(options, { anySchema: true });
        const applied = await backend.migrate();
        await write(
          io.stdout,
          applied.length
            ? applied.map((name) => `applied ${name}\n`).join('')
            : `${backend.description}: schema is up to date\n`,
        );
      }),
    );

  ctx
    .database(program.command('status'))
    .description('Show the schema version, the tenants and their users by status.')
    .option('--json', 'print as JSON')
    .action(
      ctx.action(async (options: DatabaseOptions & { json?: boolean }) => {
        const backend = await ctx.backend(options, { anySchema: true, readOnly: true });
        const migrations = await backend.migrations();
        const tenants =
          migrations.applied.length || backend.description === 'memory' ? await backend.tenantCounts() : [];
        const totals = tenants.reduce(
          (t, c) => ({ active: t.active + c.active, deactivated: t.deactivated + c.deactivated }),
          { active: 0, deactivated: 0 },
        );
        const schemaVersion = migrations.applied[migrations.applied.length - 1] ?? null;
        if (options.json) {
          await write(
            io.stdout,
            `${JSON.stringify({ database: backend.description, schemaVersion, pendingMigrations: migrations.pending, tenants, totals }, null, 2)}\n`,
          );
          return;
        }
        const lines = [
          `database        ${backend.description}`,
          `schema version  ${schemaVersion ?? '(none: run jit migrate)'}`,
          `pending         ${migrations.pending.length ? migrations.pending.join(', ') : 'none'}`,
          `users           ${totals.active} active, ${totals.deactivated} deactivated, ${tenants.length} tenant(s)`,
          '',
        ];
        await write(io.stdout, lines.join('\n'));
        if (tenants.length) {
          await write(
            io.stdout,
            renderTable(
              ['tenant', 'active', 'deactivated'],
              tenants.map((t) => [t.tenantId, String(t.active), String(t.deactivated)]),
            ),
          );
        }
      }),
    );
}
