import swc from 'unplugin-swc';
import { mergeConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

// One browser for the file; each sample (Express, NestJS) is started once and its flows run in order.
// SWC: the NestJS sample needs decorators, which esbuild does not compile with metadata.
export default mergeConfig(
  projectConfig(import.meta.dirname, { testTimeout: 60_000, hookTimeout: 120_000 }),
  {
    plugins: [swc.vite({ tsconfigFile: `${import.meta.dirname}/tsconfig.json`, module: { type: 'es6' } })],
  },
);
