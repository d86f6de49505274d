import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
  });
}

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
  options: { cwd?: string; env?: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number },
): Promise<Child & { match: RegExpExecArray }> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
      reject(new Error(`${command} did not start within ${options.timeoutMs ?? 30_000} ms:\n${output}`));
    }, options.timeoutMs ?? 30_000);
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
const SAMPLE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** `npm start` of the Express sample, as its own process, with `env` added to this one's. */
export async function startSampleProcess(env: Record<string, string>): Promise<Child & { url: string }> {
  const child = await startChild(
    process.execPath,
    [require.resolve('tsx/cli'), '--conditions=source', 'src/main.ts'],
    {
      cwd: SAMPLE_DIR,
      env: { ...process.env, PORT: '0', ...env },
      ready: /at (https?:\/\/\S+)\n[\s\S]*Press Ctrl-C/,
    },
  );
  return { ...child, url: child.match[1]! };
}
