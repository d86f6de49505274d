import { defineConfig, type ViteUserConfig } from 'vitest/config';
import { basename } from 'node:path';

/**
 * The Vitest settings every project shares: TypeScript sources resolved through the `source`
 * export condition (no build needed to test), and a JSON report per project in `reports/` that
 * `scripts/test-summary.mjs` adds up.
 */
export function projectConfig(dir: string, overrides: ViteUserConfig['test'] = {}): ViteUserConfig {
  const name = basename(dir);
  return defineConfig({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      name,
      root: dir,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      reporters: ['default', 'json'],
      outputFile: { json: `../../reports/vitest-${name}.json` },
      testTimeout: 20_000,
      hookTimeout: 60_000,
      ...overrides,
    },
  });
}
