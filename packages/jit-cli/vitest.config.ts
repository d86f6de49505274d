import { projectConfig } from '../../vitest.shared.js';

// Every command runs as its own process (as cron or an operator would run it), which takes a second
// or two each on a busy machine.
export default projectConfig(import.meta.dirname, { testTimeout: 180_000 });
