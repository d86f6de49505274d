import swc from 'unplugin-swc';
import { mergeConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

// Nest reads constructor parameter types from decorator metadata, which esbuild does not emit.
export default mergeConfig(projectConfig(import.meta.dirname), {
  plugins: [swc.vite({ tsconfigFile: `${import.meta.dirname}/tsconfig.json`, module: { type: 'es6' } })],
});
