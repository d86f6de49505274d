import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import { note } from '../io.js';
import { AUDIT_COLUMNS, auditJson, createRecordWriter } from '../output.js';
import { parseDate, parsePositiveInt } from '../parse.js';
import type { CommandContext, DatabaseOptions } from '../program.js';

interface ExportOptions extends DatabaseOptions {
  since: Date;
  until?: Date;
  tenant?: string;
  format: 'jsonl' | 'csv';
  output?: string;
  pageSize: number;
}

export function registerAuditCommands(program: Command, ctx: CommandContext): void {
  const audit = program.command('audit').description('Export the audit trail.');
  ctx
    .database(audit.command('export'))
    .description(
      'Stream audit events in time order as JSON Lines or CSV, in constant memory for any number of rows.',
    )
    .requiredOption('--since <date>', 'events at or after this ISO date/time', parseDate)
    .option('--until <date>', 'events before this ISO date/time', parseDate)
    .option('--tenant <id>', 'only this tenant')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--output <file>', 'write to a file instead of stdout')
    .addOption(
      new Option('--page-size <n>', 'events per query').argParser(parsePositiveInt).default(1000).hideHelp(),
    )
    .action(
      ctx.action(async (options: ExportOptions) => {
        const { store } = await ctx.backend(options, { readOnly: true });
        const file = options.output ? createWriteStream(options.output) : null;
        const io = file ? { ...ctx.io, stdout: file } : ctx.io;
        const out = createRecordWriter(io, options.format, AUDIT_COLUMNS, auditJson);
        let count = 0;
        let afterId: string | undefined;
        // Ids are UUIDv7, ordered by time, so paging by id walks the trail in order with an index.
        for (;;) {
          const page = await store.listAuditEvents({
            since: options.since,
            ...(options.tenant ? { tenantId: options.tenant } : {}),
            afterId,
            limit: options.pageSize,
          });
          const until = options.until;
          const rows = until ? page.filter((e) => e.at < until) : page;
          await out.write(rows);
          count += rows.length;
          if (page.length < options.pageSize || rows.length < page.length) break;
          afterId = page[page.length - 1]!.id;
        }
        await out.end();
        if (file) {
          file.end();
          await finished(file);
        }
        note(ctx.io, `exported ${count} event(s)${options.output ? ` to ${options.output}` : ''}`);
      }),
    );
}
