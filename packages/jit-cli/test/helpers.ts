import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const BIN = join(here, '..', 'src', 'bin.ts');
const TSX = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface JitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `jit` command as a separate process (sources through tsx), as an operator or cron would. */
export function jit(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {},
): Promise<JitResult> {
  const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, BIN, ...args], {
    cwd: options.cwd ?? here,
    env: env as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'jit-cli-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const fixture = (name: string) => join(here, 'fixtures', name);

/** The base64 body of a PEM fixture certificate, as metadata carries it. */
export function certBody(name: 'current.pem' | 'next.pem' | 'expired.pem'): string {
  return readFileSync(fixture(name), 'utf8')
    .replace(/-----[A-Z ]+-----/g, '')
    .replace(/\s+/g, '');
}

export interface IdpOptions {
  entityId: string;
  sso: Array<{ binding: 'redirect' | 'post'; location: string }>;
  certs: Array<{ body: string; use?: 'signing' | 'encryption' | null }>;
}

const BINDING = { redirect: 'HTTP-Redirect', post: 'HTTP-POST' };

export function idpDescriptor(o: IdpOptions): string {
  const keys = o.certs
    .map(
      (c) => `
    <md:KeyDescriptor${c.use === null || c.use === undefined ? '' : ` use="${c.use}"`}>
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>
        ${c.body.match(/.{1,76}/g)!.join('\n        ')}
      </ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>`,
    )
    .join('');
  const sso = o.sso
    .map(
      (s) =>
        `\n    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${BINDING[s.binding]}" Location="${s.location}"/>`,
    )
    .join('');
  return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${o.entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>${sso}
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

export function metadata(o: IdpOptions): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${idpDescriptor(o)}\n`;
}

/** A local HTTP server answering fixed bodies by path. */
export async function serve(
  routes: Record<string, { status?: number; type?: string; body: string | ((base: string) => string) }>,
): Promise<{ base: string; close(): Promise<void> }> {
  let base = '';
  const server: Server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = typeof route.body === 'function' ? route.body(base) : route.body;
    res.writeHead(route.status ?? 200, { 'content-type': route.type ?? 'application/xml' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
