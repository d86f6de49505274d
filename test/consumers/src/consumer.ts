import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGES, run, type Tarballs } from './packages.js';

const APPS = new URL('../apps/', import.meta.url).pathname;

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
}

/**
 * This process's environment without what npm and the test runner put there (`npm_config_*` of the
 * workspace's own npm run, `NODE_OPTIONS`), which must not reach the app's npm, tsc or Jest.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(npm_|INIT_CWD$|NODE_OPTIONS$|VITEST|NODE_ENV$)/i.test(name),
    ),
  );
}

/** The output of a failed command, for the test's failure message. */
function failure(what: string, error: unknown): Error {
  const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
  return new Error(`${what} failed:\n${stdout}\n${stderr}`.trim(), { cause: error });
}

/** A fresh project outside the workspace, made from the template in `apps/<name>/`. */
export class ConsumerApp {
  private constructor(
    readonly name: string,
    readonly dir: string,
  ) {}

  /**
   * Copies the template into a new directory under the system's temporary directory, where no
   * workspace or parent `node_modules` can be found, and points its `@jit-sso/*` dependencies (and
   * those of the packages themselves, through `overrides`) at the tarballs.
   */
  static async create(name: string, tarballs: Tarballs): Promise<ConsumerApp> {
    const dir = await mkdtemp(join(tmpdir(), `jit-consumer-${name}-`));
    await cp(join(APPS, name), dir, {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|dist)$/.test(source),
    });
    const manifestPath = join(dir, 'package.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    for (const deps of [manifest.dependencies, manifest.devDependencies]) {
      for (const dep of Object.keys(deps ?? {})) {
        if (dep in tarballs) deps![dep] = `file:${tarballs[dep as keyof Tarballs]}`;
      }
    }
    manifest.overrides = Object.fromEntries(PACKAGES.map((p) => [p, `file:${tarballs[p]}`]));
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    return new ConsumerApp(name, dir);
  }

  /** `npm install` as an adopter runs it: peer dependencies enforced, from the shared npm cache. */
  async install(env: Record<string, string>): Promise<void> {
    await this.exec('npm install', 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], env);
  }

  /** The app's own `tsc` (strict, library declarations checked), which also emits `dist/`. */
  async compile(): Promise<void> {
    await this.exec('tsc', join(this.dir, 'node_modules', '.bin', 'tsc'), [
      '-p',
      'tsconfig.json',
      '--pretty',
      'false',
    ]);
  }

  /** Runs one of the app's installed binaries (`jit`, `jest`, ...) and returns its stdout. */
  async bin(name: string, args: string[], env: Record<string, string> = {}): Promise<string> {
    return this.exec(name, join(this.dir, 'node_modules', '.bin', name), args, env);
  }

  async writeFile(name: string, content: string): Promise<void> {
    await writeFile(join(this.dir, name), content);
  }

  /** Starts `node [...nodeOptions] <entry>` and resolves once it prints `listening`. */
  async start(entry: string, env: Record<string, string>, nodeOptions: string[] = []): Promise<RunningApp> {
    const child = spawn(process.execPath, [...nodeOptions, entry], {
      cwd: this.dir,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new RunningApp(child);
    await app.ready;
    return app;
  }

  async remove(): Promise<void> {
    if (!process.env['KEEP_CONSUMER_APPS']) await rm(this.dir, { recursive: true, force: true });
  }

  private async exec(what: string, file: string, args: string[], env: Record<string, string> = {}) {
    try {
      const { stdout } = await run(file, args, {
        cwd: this.dir,
        env: { ...cleanEnv(), ...env },
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      throw failure(`${this.name}: ${what}`, error);
    }
  }
}

/** A consumer app running as a child process. */
export class RunningApp {
  #output = '';
  readonly ready: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" in 30 s:\n${this.#output}`)), 30_000);
      const read = (chunk: Buffer) => {
        this.#output += chunk.toString();
        if (/^listening/m.test(this.#output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code ?? signal}) before listening:\n${this.#output}`));
      });
    });
    this.ready.catch(() => undefined);
  }

  /** Everything the app printed, for failure messages. */
  get output(): string {
    return this.#output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
