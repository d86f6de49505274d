import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { describeStoreCommands } from './store-suite.js';

describeStoreCommands('SQLite', () => {
  const dir = tempDir();
  let n = 0;
  return {
    // An empty file is an empty SQLite database (commands that only read never create one). A bare
    // path is a SQLite file, as an operator would type it; sqlite:<path> is tested by the URL parser.
    fresh: async () => {
      const file = join(dir.path, `jit-${++n}.db`);
      writeFileSync(file, '');
      return n % 2 ? file : `sqlite:${file}`;
    },
    dispose: async () => dir.remove(),
  };
});
