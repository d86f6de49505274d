import { SingleBar } from 'cli-progress';
import type { CliIo } from './io.js';

/** Progress of a long operation on stderr: a bar on a terminal, a plain line per tenth otherwise. */
export interface Progress {
  tick(count?: number): void;
  stop(): void;
}

export function startProgress(io: CliIo, label: string, total: number): Progress {
  if (io.progressBars) {
    const bar = new SingleBar({
      stream: io.stderr as unknown as NodeJS.WritableStream,
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      // Draw on streams that only claim to be terminals too (terminal multiplexers, tests).
      noTTYOutput: true,
    });
    bar.start(Math.max(total, 1), 0);
    let value = 0;
    return {
      tick(count = 1) {
        value += count;
        if (value > total) bar.setTotal(value);
        bar.update(value);
      },
      stop() {
        bar.stop();
      },
    };
  }
  const step = Math.max(1, Math.ceil(total / 10));
  let value = 0;
  let reported = 0;
  return {
    tick(count = 1) {
      value += count;
      if (value - reported >= step) {
        reported = value;
        io.stderr.write(`${label}: ${value}/${total}\n`);
      }
    },
    stop() {
      if (value !== reported) io.stderr.write(`${label}: ${value}/${total}\n`);
    },
  };
}
