import { projectConfig } from '../../vitest.shared.js';

// The database tests share servers and tables: run the files one after another.
export default projectConfig(import.meta.dirname, { fileParallelism: false, testTimeout: 60_000 });
