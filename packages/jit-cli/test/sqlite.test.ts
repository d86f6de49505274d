import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { describeStoreCommands } from './store-suite.js';

describeStoreCommands('SQLite', () => {
  const dir = tempDir();
  let n = 0;
  return {
    // A bare path is a SQLite file, as an operator would type it; sqlite:<path> is tested by the URL parser.
    fresh: async () => (++n % 2 ? join(dir.path, `jit-${n}.db`) : `sqlite:${join(dir.path, `jit-${n}.db`)}`),
    dispose: async () => dir.remove(),
  };
});
