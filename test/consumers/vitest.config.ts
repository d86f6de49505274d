import { mergeConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

// One test file per app: installs wait on the network and the disk, so three apps go at once.
export default mergeConfig(
  projectConfig(import.meta.dirname, {
    globalSetup: ['src/global-setup.ts'],
    testTimeout: 60_000,
    maxWorkers: 3,
  }),
  {},
);
