import swc from 'unplugin-swc';
import { mergeConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

// The files share the database servers: one after another. SWC compiles the TypeORM entities' decorators.
export default mergeConfig(
  projectConfig(import.meta.dirname, { fileParallelism: false, testTimeout: 60_000 }),
  {
    plugins: [swc.vite({ tsconfigFile: `${import.meta.dirname}/tsconfig.json`, module: { type: 'es6' } })],
  },
);
