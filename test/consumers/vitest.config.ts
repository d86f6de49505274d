import { mergeConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

// Each test file installs one app: files run in parallel, the steps of one app in order.
export default mergeConfig(
  projectConfig(import.meta.dirname, { globalSetup: ['src/global-setup.ts'], testTimeout: 60_000 }),
  {},
);
