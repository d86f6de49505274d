import { createJitDataSource, migrate, redact } from './data-source.js';

const USAGE = `usage: jit-typeorm-migrate <database-url> [--list]

Applies the pending @jit-sso/typeorm migrations to the database (each in its own transaction).
  <database-url>  sqlite:<file> | postgres://user@host:5432/db | mysql://root@host:3306/db | mariadb://...
                  (or the JIT_DATABASE_URL environment variable)
  --list          show which migrations are applied and pending, change nothing`;

export interface CommandOutput {
  log(line: string): void;
  error(line: string): void;
}

/** The migration command; resolves to the process exit code. */
export async function runMigrateCommand(
  argv: readonly string[],
  out: CommandOutput = console,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const list = argv.includes('--list');
  const positional = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h')) {
    out.log(USAGE);
    return 0;
  }
  const url = positional[0] ?? env['JIT_DATABASE_URL'];
  if (!url || positional.length > 1 || argv.some((a) => a.startsWith('-') && a !== '--list')) {
    out.error(USAGE);
    return 2;
  }
  let dataSource;
  try {
    dataSource = await createJitDataSource(url);
  } catch (error) {
    out.error(`Cannot open ${redact(url)}: ${(error as Error).message}`);
    return 1;
  }
  try {
    if (list) {
      const executed = new Set(
        (
          await dataSource
            .query(`SELECT name FROM ${dataSource.driver.escape(dataSource.options.migrationsTableName!)}`)
            .catch(() => [])
        ).map((row: { name: string }) => row.name),
      );
      for (const migration of dataSource.migrations) {
        out.log(`${executed.has(migration.name!) ? 'applied' : 'pending'}  ${migration.name}`);
      }
      return 0;
    }
    const ran = await migrate(dataSource);
    out.log(ran.length ? ran.map((name) => `applied  ${name}`).join('\n') : `${redact(url)} is up to date`);
    return 0;
  } catch (error) {
    out.error(`Migration failed on ${redact(url)}: ${(error as Error).message}`);
    return 1;
  } finally {
    await dataSource.destroy();
  }
}
