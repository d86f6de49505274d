import { projectConfig } from '../../vitest.shared.js';

// One browser and one sample app for the whole file; the flows run in order.
export default projectConfig(import.meta.dirname, { testTimeout: 60_000, hookTimeout: 120_000 });
