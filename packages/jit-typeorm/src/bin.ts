import { runMigrateCommand } from './cli.js';

process.exitCode = await runMigrateCommand(process.argv.slice(2));
