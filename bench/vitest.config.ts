import { projectConfig } from '../vitest.shared.js';

// Each smoke run is a child process that loads the sources through tsx, which takes a few seconds
// on a busy machine before the benchmark itself starts. The report goes where the others' go.
export default projectConfig(import.meta.dirname, {
  testTimeout: 240_000,
  outputFile: { json: '../reports/vitest-bench.json' },
});
