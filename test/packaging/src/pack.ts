import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';

export const WORKSPACE = resolve(import.meta.dirname, '../../..');

/** The workspace's published packages: every directory of `packages/` whose package.json is not private. */
export function publishedPackages(): { dir: string; name: string }[] {
  const root = join(WORKSPACE, 'packages');
  return readdirSync(root)
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ dir, name: manifest.name as string }));
}

/** Runs a command and returns its exit status, its stdout and all its output; throws when it cannot start. */
export function run(
  command: string,
  args: string[],
  cwd: string,
): { status: number; stdout: string; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

/**
 * Packs a package as `npm pack` does, lifecycle scripts included, from a copy of its directory, so
 * that prepack's rewrite of package.json never touches the workspace while other tasks read it. The
 * copy sits at the same depth as in the workspace, next to a copy of `scripts/`, for the package's
 * scripts to find the shared ones. Returns the tarball's path.
 */
export function pack(dir: string, stage: string, destination: string): string {
  const from = join(WORKSPACE, 'packages', dir);
  const to = join(stage, 'packages', dir);
  cpSync(join(WORKSPACE, 'scripts'), join(stage, 'scripts'), { recursive: true });
  cpSync(from, to, {
    recursive: true,
    filter: (source) => !['node_modules', 'tmp', 'coverage'].includes(basename(source)),
  });
  mkdirSync(destination, { recursive: true });
  const packed = run('npm', ['pack', '--json', '--pack-destination', destination], to);
  if (packed.status !== 0) throw new Error(`npm pack failed in ${dir}:\n${packed.output}`);
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  return join(destination, filename);
}

/** Unpacks a tarball into `into` and returns the package's directory and the paths of its files. */
export function unpack(tarball: string, into: string): { root: string; files: Set<string> } {
  mkdirSync(into, { recursive: true });
  const unpacked = run('tar', ['-xzf', tarball, '-C', into], into);
  if (unpacked.status !== 0) throw new Error(`tar failed on ${tarball}:\n${unpacked.output}`);
  const root = join(into, 'package');
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
  return { root, files: new Set(files) };
}
