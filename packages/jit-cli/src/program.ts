import { Command, CommanderError } from 'commander';
import { isJitError } from '@jit-sso/core';
import { type Backend, type OpenBackend } from './backend.js';
import type { LoadDriver } from './typeorm-backend.js';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { registerConnectionCommands } from './commands/connection.js';
import { registerUserCommands } from './commands/users.js';
import { registerDatabaseCommands } from './commands/database.js';
import { registerCleanupCommands } from './commands/cleanup.js';
import { registerOffboardCommand } from './commands/offboard.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerScimCommands } from './commands/scim.js';
import { registerWebhookCommands } from './commands/webhooks.js';
import { registerConfigCommands } from './commands/config.js';

export const VERSION = '0.1.0';

export interface DatabaseOptions {
  databaseUrl?: string;
}

/** What every command gets: the streams, the database and the wrapper that turns results into exit codes. */
export interface CommandContext {
  readonly io: CliIo;
  /**
   * Opens the database named by `--database-url` or `DATABASE_URL`; closed when the command ends.
   * Refuses a database with pending migrations unless `anySchema` (for `migrate` and `status`). A
   * `readOnly` command creates nothing: a missing SQLite file is an error, not a new database.
   */
  backend(options: DatabaseOptions, mode?: { anySchema?: boolean; readOnly?: boolean }): Promise<Backend>;
  /** Adds `--database-url` to a command. */
  database(command: Command): Command;
  /** Wraps an action; a returned number becomes the exit code. */
  action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void>;
}

export interface RunOptions extends Partial<CliIo> {
  openBackend?: OpenBackend;
  /** How the TypeORM backend loads the database driver (default: `require` from this package). */
  loadDriver?: LoadDriver;
}

function report(io: CliIo, error: unknown): number {
  if (error instanceof CliError) {
    io.stderr.write(`jit: ${error.message}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  if (isJitError(error)) {
    io.stderr.write(`jit: ${error.code}: ${error.message}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
    return EXIT_FAILURE;
  }
  io.stderr.write(`jit: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
  if (io.env['JIT_DEBUG']) io.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  return EXIT_FAILURE;
}

/**
 * Runs the `jit` command line and resolves to its exit status: 0 success, 1 failure, 2 usage error
 * (unknown command or option, missing argument, a destructive command without --yes off a terminal).
 */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const io: CliIo = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    stdin: options.stdin ?? process.stdin,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    interactive: options.interactive ?? Boolean(process.stdin.isTTY && process.stderr.isTTY),
    progressBars: options.progressBars ?? Boolean(process.stderr.isTTY),
    now: options.now ?? (() => new Date()),
  };
  // The database drivers load only for commands that use a database.
  const openBackend: OpenBackend =
    options.openBackend ??
    (async (url, open) =>
      (await import('./typeorm-backend.js')).openTypeormBackend(url, {
        ...open,
        ...(options.loadDriver ? { loadDriver: options.loadDriver } : {}),
      }));
  const opened: Backend[] = [];
  let exitCode = EXIT_OK;

  const ctx: CommandContext = {
    io,
    async backend(o, { anySchema = false, readOnly = false } = {}) {
      const url = o.databaseUrl ?? io.env['DATABASE_URL'];
      if (!url) {
        throw new UsageError('No database: pass --database-url or set DATABASE_URL.', {
          hint: 'e.g. --database-url sqlite:./jit.db or postgres://user@host/db',
        });
      }
      const backend = await openBackend(url, { readOnly });
      opened.push(backend);
      if (!anySchema) {
        const { pending } = await backend.migrations();
        if (pending.length) {
          throw new CliError(
            'SCHEMA_OUTDATED',
            `${backend.description} has ${pending.length} pending migration(s): ${pending.join(', ')}.`,
            { hint: 'Run jit migrate first.' },
          );
        }
      }
      return backend;
    },
    database(command) {
      return command.option(
        '--database-url <url>',
        'sqlite:<path>, postgres://… or mysql://… (default: $DATABASE_URL)',
      );
    },
    action(fn) {
      return async (...args) => {
        const code = await fn(...args);
        if (typeof code === 'number') exitCode = code;
      };
    },
  };

  const program = new Command('jit')
    .description(
      'Operate jit-sso: migrations, users, dormant cleanup, offboarding, SCIM tokens, audit export, connections, webhooks.',
    )
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, w) => w(s),
    })
    .exitOverride();

  registerDatabaseCommands(program, ctx);
  registerUserCommands(program, ctx);
  registerCleanupCommands(program, ctx);
  registerOffboardCommand(program, ctx);
  registerScimCommands(program, ctx);
  registerConfigCommands(program, ctx);
  registerAuditCommands(program, ctx);
  registerConnectionCommands(program, ctx);
  registerWebhookCommands(program, ctx);

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      exitCode = error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    } else {
      exitCode = report(io, error);
    }
  } finally {
    for (const backend of opened) {
      await backend.close().catch((error: unknown) => {
        io.stderr.write(`jit: closing the database failed: ${(error as Error).message}\n`);
      });
    }
  }
  return exitCode;
}
