/**
 * The export a team writes by hand: one query for every event since the date, then write them.
 * Baseline of audit-export.ts.
 *
 *   node --conditions=source --import tsx bench/cli/naive-audit.ts <sqlite-file> <since-iso> <out-file>
 */
import { createWriteStream } from 'node:fs';
import { createJitDataSource, TypeormStore } from '@jit-sso/typeorm';

const [file, since, out] = process.argv.slice(2);
const dataSource = await createJitDataSource(`sqlite:${file}`);
const store = new TypeormStore(dataSource);
const events = await store.listAuditEvents({ since: new Date(since!), limit: Number.MAX_SAFE_INTEGER });
const output = createWriteStream(out!);
output.end(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
await new Promise<void>((resolve) => output.once('finish', () => resolve()));
await dataSource.destroy();
process.stdout.write(`${JSON.stringify({ exported: events.length })}\n`);
