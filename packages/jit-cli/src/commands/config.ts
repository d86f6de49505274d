import type { Command } from 'commander';
import { importConfiguration, type ConfigurationImport } from '@jit-sso/core';
import { checkConfig, readJsonFile } from '../config.js';
import { CliError } from '../errors.js';
import { write } from '../io.js';
import type { CommandContext, DatabaseOptions } from '../program.js';

export function registerConfigCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const config = program
    .command('config')
    .description(
      'Move static configuration into the database, where the admin service changes it at run time.',
    );

  ctx
    .database(config.command('import'))
    .description(
      'Import a config file ({ "tenants": [...], "connections": [...] }) into the configuration store: tenants, connections, and their verified domains; each change recorded. Running it again changes only what differs.',
    )
    .argument('<file>', 'the config file the app reads today')
    .option('--actor <name>', 'who the changes are recorded as made by', 'import')
    .option('--json', 'print the result as JSON')
    .action(
      ctx.action(async (file: string, options: DatabaseOptions & { actor: string; json?: boolean }) => {
        const value = await readJsonFile(file);
        const errors = checkConfig(value).filter((p) => p.severity === 'error');
        if (errors.length) {
          throw new CliError(
            'CONFIG_INVALID',
            `${file} has ${errors.length} error(s); nothing was imported:\n${errors.map((e) => `  ${e.where}: ${e.message}`).join('\n')}`,
            { hint: `jit connection check ${file} lists them.` },
          );
        }
        const backend = await ctx.backend(options);
        const report = await importConfiguration(backend.configuration, value as ConfigurationImport, {
          actor: options.actor,
        });
        if (options.json) {
          await write(io.stdout, `${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const { tenants, connections, domains } = report;
        await write(
          io.stdout,
          [
            `tenants      ${tenants.saved} saved, ${tenants.unchanged} unchanged`,
            `connections  ${connections.created} created, ${connections.updated} updated, ${connections.unchanged} unchanged`,
            `domains      ${domains.added} verified, ${domains.unchanged} unchanged`,
            '',
          ].join('\n'),
        );
      }),
    );
}
