import swc from 'unplugin-swc';
import { mergeConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

// The database tests share servers and tables: run the files one after another. SWC compiles the
// decorated entity of the custom-user test (esbuild has no legacy decorators).
export default mergeConfig(
  projectConfig(import.meta.dirname, { fileParallelism: false, testTimeout: 60_000 }),
  {
    plugins: [swc.vite({ tsconfigFile: `${import.meta.dirname}/tsconfig.json`, module: { type: 'es6' } })],
  },
);
