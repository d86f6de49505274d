// Checked by the typecheck: the loggers apps already have fit `JitLogger` without an adapter.
import type { JitLogger } from '../src/index.js';

interface PinoLogFn {
  <T extends object>(obj: T, msg?: string, ...args: unknown[]): void;
  (obj: unknown, msg?: string, ...args: unknown[]): void;
  (msg: string, ...args: unknown[]): void;
}
declare const pino: { error: PinoLogFn; warn: PinoLogFn; info: PinoLogFn };

export const fromConsole: JitLogger = console;
export const fromPino: JitLogger = pino;
