import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { freePort } from '../ports.js';
import type { AppProcessConfig } from './express-app.js';

export interface Child {
  readonly process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `command` and resolves once its output matches `ready` (rejects if it exits first). */
function startChild(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number },
): Promise<Child & { match: RegExpExecArray }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${command} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = options.ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ process: child, output: () => output, stop, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

/** A private Redis on a free port, without persistence: a test may flush or stop it. */
export async function startRedisServer(): Promise<Child & { url: string }> {
  const port = await freePort();
  const child = await startChild(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { ready: /Ready to accept connections/ },
  );
  return { ...child, url: `redis://127.0.0.1:${port}` };
}

const require = createRequire(import.meta.url);
const APP = fileURLToPath(new URL('./express-app.ts', import.meta.url));

/** The suite's Express app (`express-app.ts`) as its own process. */
export async function startAppProcess(config: AppProcessConfig): Promise<Child & { url: string }> {
  const child = await startChild(process.execPath, [require.resolve('tsx/cli'), '--conditions=source', APP], {
    env: { ...process.env, JIT_E2E_APP: JSON.stringify(config) },
    ready: /listening on (\d+)/,
  });
  return { ...child, url: `http://127.0.0.1:${child.match[1]}` };
}
