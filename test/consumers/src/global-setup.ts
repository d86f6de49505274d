import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildAndPack, run, type Tarballs } from './packages.js';
import { servePrebuilds } from './prebuilds.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where each package's tarball is. */
    tarballs: Tarballs;
    /** Extra environment for `npm install` in the apps. */
    installEnv: Record<string, string>;
  }
}

/** Once per run: the registry is reachable, every package is built and packed, native binaries are served. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    await run('npm', ['ping'], { timeout: 20_000 });
  } catch (error) {
    // A prerequisite, not a reason to skip: the apps install their frameworks from the registry.
    throw new Error(`The npm registry is not reachable, and the consumer apps install from it.`, {
      cause: error,
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'jit-consumers-packs-'));
  const tarballs = await buildAndPack(dir);
  const prebuilds = await servePrebuilds(dir);
  project.provide('tarballs', tarballs);
  project.provide('installEnv', prebuilds.env);
  return async () => {
    await prebuilds.close();
    await rm(dir, { recursive: true, force: true });
  };
}
