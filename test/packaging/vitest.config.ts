import { projectConfig } from '../../vitest.shared.js';

// Packing and Are the Types Wrong take seconds per package.
export default projectConfig(import.meta.dirname, { testTimeout: 120_000, hookTimeout: 300_000 });
