// Test helpers for apps signing in through the dev IdP: exported as `@jit-sso/dev-idp/testing`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

/** A browser stand-in for HTTP tests: cookies per origin, redirects and auto-submitting forms followed. */
export class Browser {
  readonly #cookies = new Map<string, Map<string, string>>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const origin = new URL(url).origin;
    const jar = this.#cookies.get(origin) ?? new Map<string, string>();
    this.#cookies.set(origin, jar);
    const headers = new Headers(init.headers);
    if (!headers.has('accept')) headers.set('accept', 'text/html');
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      if (/expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, pair!.slice(eq + 1));
    }
    return res;
  }

  /** The value of the cookie `name` this browser holds for `origin`, if any. */
  cookie(origin: string, name: string): string | undefined {
    return this.#cookies.get(new URL(origin).origin)?.get(name);
  }

  /** Follows redirects and SAML auto-post forms; returns the final page. */
  async go(url: string, init: RequestInit = {}): Promise<Page> {
    let current = url;
    let res = await this.fetch(current, init);
    for (let hops = 0; hops < 20; hops++) {
      if (res.status >= 300 && res.status < 400) {
        current = new URL(res.headers.get('location')!, current).href;
        res = await this.fetch(current);
        continue;
      }
      const body = await res.text();
      const autoPost = /<form[^>]*action="([^"]+)"[^>]*id="saml-post"[^>]*>/.exec(body);
      if (!autoPost) return { url: current, status: res.status, body };
      current = decode(autoPost[1]!);
      res = await this.fetch(current, formInit(hiddenFields(body)));
    }
    throw new Error('too many redirects');
  }

  post(url: string, form: Record<string, string>): Promise<Page> {
    return this.go(url, formInit(form));
  }

  /** On an IdP login page, signs in as `person` (the picker's button). */
  async pick(picker: Page, person: string): Promise<Page> {
    const forms = [...picker.body.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((m) => m[2]!.includes(`value="${person}"`));
    if (!form)
      throw new Error(`no sign-in button for ${person} on ${picker.url}:\n${picker.body.slice(0, 500)}`);
    return this.post(new URL(decode(form[1]!), picker.url).href, { ...hiddenFields(form[2]!), person });
  }
}

export interface Page {
  url: string;
  status: number;
  body: string;
}

function formInit(form: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  };
}

function decode(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function hiddenFields(body: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g))
    fields[m[1]!] = decode(m[2]!);
  return fields;
}

/** The text content of the element with this id (first match), tags stripped. */
export function textOf(body: string, id: string): string {
  const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(?:p|span|div|dd)>`).exec(body);
  return m
    ? decode(m[1]!.replace(/<[^>]+>/g, ' '))
        .replace(/\s+/g, ' ')
        .trim()
    : '';
}

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

/** A process a test started. */
export interface Child {
  readonly process: ChildProcess;
  /** What `ready` matched in its output. */
  readonly match: RegExpExecArray;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, resolved once it exited. */
  stop(): Promise<void>;
}

/** Starts `command` and resolves once its output matches `ready`; rejects if it exits or times out first. */
export function startProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number },
): Promise<Child> {
  const timeoutMs = options.timeoutMs ?? 30_000;
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
      reject(new Error(`${command} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = options.ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ process: child, match, output: () => output, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
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

/**
 * A private `redis-server` without persistence, on a free port or on `port` (to start it again, empty,
 * where its clients reconnect): a test may flush, stop or restart it.
 */
export async function startRedisServer(port?: number): Promise<Child & { url: string; port: number }> {
  port ??= await freePort();
  const child = await startProcess(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { ready: /Ready to accept connections/ },
  );
  return { ...child, url: `redis://127.0.0.1:${port}`, port };
}
