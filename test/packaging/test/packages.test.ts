import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack, publishedPackages, run, unpack, WORKSPACE } from '../src/pack.js';

interface Manifest {
  name: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: unknown;
  typesVersions?: Record<string, Record<string, string[]>>;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface Packed {
  tarball: string;
  root: string;
  files: Set<string>;
  manifest: Manifest;
}

const packages = publishedPackages();
const packed = new Map<string, Packed>();
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'jit-sso-packaging-'));
  for (const { dir, name } of packages) {
    const tarball = pack(dir, join(scratch, 'stage'), join(scratch, 'tarballs'));
    const { root, files } = unpack(tarball, join(scratch, 'unpacked', dir));
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
    packed.set(name, { tarball, root, files, manifest });
  }
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function packedOf(name: string): Packed {
  const found = packed.get(name);
  if (!found) throw new Error(`${name} was not packed`);
  return found;
}

/** Every [condition path, target] of an exports map, conditions nested or not. */
function exportTargets(value: unknown, path: string[] = []): [string[], string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((inner, i) => exportTargets(inner, [...path, String(i)]));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([key, inner]) => exportTargets(inner, [...path, key]));
  return [];
}

it('finds the eight published packages', () => {
  expect(packages.map((p) => p.name).sort()).toEqual([
    '@jit-sso/cli',
    '@jit-sso/core',
    '@jit-sso/express',
    '@jit-sso/koa',
    '@jit-sso/nest',
    '@jit-sso/protocol',
    '@jit-sso/scim',
    '@jit-sso/typeorm',
  ]);
});

describe.each(packages.map((p) => p.name))('%s as packed by npm', (name) => {
  it('has nothing publint reports, suggestions included', async () => {
    const { tarball } = packedOf(name);
    const data = readFileSync(tarball);
    const tarballData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const { messages, pkg } = await publint({
      pack: { tarball: tarballData },
      level: 'suggestion',
      strict: true,
    });
    expect(messages.map((message) => `${message.code}: ${formatMessage(message, pkg) ?? ''}`)).toEqual([]);
  });

  it('has nothing Are the Types Wrong reports, in every resolution mode', () => {
    const { tarball } = packedOf(name);
    const checked = run('npx', ['attw', tarball, '--format', 'ascii'], WORKSPACE);
    expect(checked.status, checked.output).toBe(0);
  });

  it('carries the MIT licence text of the repository', () => {
    const { root, files } = packedOf(name);
    expect(files.has('LICENSE')).toBe(true);
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toBe(
      readFileSync(join(WORKSPACE, 'LICENSE'), 'utf8'),
    );
  });

  it('points every entry point at a shipped JavaScript or declaration file', () => {
    const { files, manifest } = packedOf(name);
    const targets: [string, string][] = [
      ...exportTargets(manifest.exports).map(([path, target]): [string, string] => [
        `exports.${path.join('.')}`,
        target,
      ]),
      ...(['main', 'types'] as const).flatMap((field): [string, string][] =>
        manifest[field] ? [[field, manifest[field]]] : [],
      ),
      ...Object.entries(manifest.bin ?? {}).map(([bin, target]): [string, string] => [`bin.${bin}`, target]),
      ...Object.values(manifest.typesVersions ?? {}).flatMap((paths) =>
        Object.entries(paths).flatMap(([key, list]) =>
          list.map((target): [string, string] => [`typesVersions.${key}`, target]),
        ),
      ),
    ];
    expect(targets.length).toBeGreaterThan(0);
    const wrong = targets.filter(
      ([, target]) =>
        !files.has(normalize(target)) || (/\.[cm]?ts$/.test(target) && !/\.d\.[cm]?ts$/.test(target)),
    );
    expect(wrong).toEqual([]);
  });

  it('has source maps whose sources are shipped', () => {
    const { root, files } = packedOf(name);
    const maps = [...files].filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[] };
      return sources
        .map((source) => normalize(join(dirname(map), source)))
        .filter((source) => !files.has(source));
    });
    expect(missing).toEqual([]);
  });

  it('asks for a Node.js that can require() the ES-module-only dependencies', () => {
    const { manifest } = packedOf(name);
    const node = manifest.engines?.['node'];
    expect(node).toBeDefined();
    expect(semver.minVersion(node!)?.version).toBe('20.19.0');
  });

  it('accepts patch releases of every dependency and peer', () => {
    const { manifest } = packedOf(name);
    const pinned = Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies }).filter(
      ([, range]) => semver.valid(range) !== null || semver.validRange(range) === null,
    );
    expect(pinned).toEqual([]);
  });
});

describe('peer ranges admit the framework versions apps run', () => {
  const admits: [string, string, string[]][] = [
    ['@jit-sso/express', 'express', ['4.21.0', '4.21.2', '4.22.1', '5.0.0', '5.1.0', '5.3.0']],
    ['@jit-sso/express', 'passport', ['0.6.0', '0.7.0']],
    ['@jit-sso/protocol', 'passport', ['0.6.0', '0.7.0']],
    ['@jit-sso/nest', '@nestjs/common', ['10.0.0', '10.4.15', '11.0.0', '11.1.6', '12.0.0', '12.6.3']],
    ['@jit-sso/nest', '@nestjs/core', ['10.0.0', '10.4.15', '11.0.0', '11.1.6', '12.0.0', '12.6.3']],
    ['@jit-sso/nest', '@nestjs/passport', ['10.0.3', '11.0.5', '12.0.0']],
    ['@jit-sso/nest', 'passport', ['0.6.0', '0.7.0']],
    ['@jit-sso/nest', 'reflect-metadata', ['0.1.14', '0.2.2']],
    ['@jit-sso/nest', 'rxjs', ['7.8.2']],
    ['@jit-sso/koa', 'koa', ['2.13.0', '2.16.1', '3.0.0', '3.3.0']],
    ['@jit-sso/koa', 'koa-passport', ['5.0.0', '6.0.0']],
    ['@jit-sso/typeorm', 'typeorm', ['0.3.20', '0.3.28', '1.0.0', '1.1.1']],
    // TypeORM 0.3.20 accepts better-sqlite3 up to 9 only.
    ['@jit-sso/typeorm', 'better-sqlite3', ['9.6.0', '11.10.0', '12.6.2']],
    ['@jit-sso/typeorm', 'pg', ['8.11.0', '8.23.1']],
    ['@jit-sso/typeorm', 'mysql2', ['3.9.0', '3.24.6']],
  ];
  it.each(admits)('%s: %s %j', (name, peer, versions) => {
    const range = packedOf(name).manifest.peerDependencies?.[peer];
    expect(range).toBeDefined();
    expect(versions.filter((version) => !semver.satisfies(version, range!))).toEqual([]);
  });

  const optional: [string, string[]][] = [
    ['@jit-sso/typeorm', ['better-sqlite3', 'mysql2', 'pg']],
    ['@jit-sso/protocol', ['ioredis', 'pg']],
  ];
  it.each(optional)('%s leaves the drivers optional: %j', (name, peers) => {
    const { manifest } = packedOf(name);
    for (const peer of peers) {
      expect(manifest.peerDependencies?.[peer], peer).toBeDefined();
      expect(manifest.peerDependenciesMeta?.[peer]?.optional, peer).toBe(true);
    }
  });
});
