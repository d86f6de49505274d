import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

export const WORKSPACE = new URL('../../../', import.meta.url).pathname;

/** Every published package, as an adopter installs it. */
export const PACKAGES = [
  '@jit-sso/core',
  '@jit-sso/typeorm',
  '@jit-sso/protocol',
  '@jit-sso/scim',
  '@jit-sso/express',
  '@jit-sso/nest',
  '@jit-sso/koa',
  '@jit-sso/cli',
] as const;

export type PackageName = (typeof PACKAGES)[number];

/** Package name → absolute path of its `npm pack` tarball. */
export type Tarballs = Record<PackageName, string>;

/** Builds every package with Nx, then packs each into `into` as `npm publish` would. */
export async function buildAndPack(into: string): Promise<Tarballs> {
  await run('npx', ['nx', 'run-many', '-t', 'build', '-p', ...PACKAGES, '--outputStyle=static'], {
    cwd: WORKSPACE,
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', into, ...PACKAGES.flatMap((name) => ['-w', name])],
    { cwd: WORKSPACE, maxBuffer: 64 * 1024 * 1024 },
  );
  const packed = JSON.parse(stdout) as { name: string; filename: string }[];
  const tarballs = {} as Tarballs;
  for (const name of PACKAGES) {
    const entry = packed.find((p) => p.name === name);
    if (!entry) throw new Error(`npm pack did not pack ${name}`);
    tarballs[name] = join(into, entry.filename);
  }
  return tarballs;
}

/** The version of a dependency installed in the workspace. */
export async function workspaceVersion(name: string): Promise<string> {
  const manifest = JSON.parse(
    await readFile(join(WORKSPACE, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}
