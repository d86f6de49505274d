import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { UsageError } from './errors.js';

/** Where a command reads and writes; `run()` fills it from the process, tests pass their own. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** A person is at a terminal who can answer a confirmation (stdin and stderr are TTYs). */
  readonly interactive: boolean;
  /** stderr is a terminal: draw progress bars instead of plain progress lines. */
  readonly progressBars: boolean;
  readonly now: () => Date;
}

/** Writes a chunk and waits when the stream's buffer is full, so long outputs run in constant memory. */
export async function write(stream: Writable, chunk: string): Promise<void> {
  if (stream.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('drain', done);
      stream.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    stream.once('drain', done);
    stream.once('error', done);
  });
}

export function note(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}

/**
 * Asks before a destructive change, showing `who` (one line each) under the question. Without a
 * terminal there is nobody to ask: the command is refused (exit 2) unless `--yes` was given, so a
 * cron job never hangs on a prompt.
 */
export async function confirm(
  io: CliIo,
  question: string,
  yes: boolean | undefined,
  who: readonly string[] = [],
): Promise<boolean> {
  if (yes) return true;
  const listing = who.map((line) => `\n  ${line}`).join('');
  if (!io.interactive) {
    throw new UsageError(
      `${question}${listing}\nRefusing without confirmation: not attached to a terminal.`,
      {
        code: 'CONFIRMATION_REQUIRED',
        hint: 'Pass --yes to confirm in scripts, or --dry-run to see what would change.',
      },
    );
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    const prompt = who.length ? `${question}${listing}\nProceed? [y/N] ` : `${question} [y/N] `;
    const answer = await rl.question(prompt);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** How many people a confirmation lists before "and N more". */
export const CONFIRM_LIST_LIMIT = 10;

/**
 * The lines a confirmation lists: the first `CONFIRM_LIST_LIMIT` of `shown`, then "and N more" for
 * the rest of `total`.
 */
export function listForConfirmation(shown: readonly string[], total: number): string[] {
  const lines = shown.slice(0, CONFIRM_LIST_LIMIT);
  if (total > lines.length) lines.push(`and ${total - lines.length} more`);
  return lines;
}
