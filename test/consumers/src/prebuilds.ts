import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { run, WORKSPACE, workspaceVersion } from './packages.js';

export interface PrebuildHost {
  /** The environment that points `prebuild-install` at this host. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * better-sqlite3's install script downloads a prebuilt binary from GitHub and compiles SQLite when it
 * cannot (about two minutes per app). This serves the binary the workspace already compiled, for the
 * same version and Node ABI, through prebuild-install's documented mirror setting, so that each app's
 * install takes the download path an adopter's install takes. Another version of better-sqlite3 gets
 * a 404 and compiles.
 */
export async function servePrebuilds(into: string): Promise<PrebuildHost> {
  const version = await workspaceVersion('better-sqlite3');
  const asset = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const file = join(into, asset);
  await run('tar', ['czf', file, 'build/Release/better_sqlite3.node'], {
    cwd: join(WORKSPACE, 'node_modules', 'better-sqlite3'),
  });
  const server = createServer((req, res) => {
    if (req.url !== `/v${version}/${basename(file)}`) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { npm_config_better_sqlite3_binary_host: `http://127.0.0.1:${port}` },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
