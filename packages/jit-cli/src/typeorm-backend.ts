import { CliError } from './errors.js';
import type { Backend } from './backend.js';
import { databaseKind } from './backend.js';

export async function openTypeormBackend(url: string): Promise<Backend> {
  databaseKind(url);
  throw new CliError('DATABASE_UNAVAILABLE', 'The TypeORM store is not available.');
}
