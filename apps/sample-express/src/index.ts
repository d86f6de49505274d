export { createSampleApp, ADMIN_ROLE, type SampleAppOptions } from './app.js';
export { startSample, DEFAULT_DATABASE_URL, type Sample, type SampleOptions } from './start.js';
export { loadConfig, validateConfig, substitute, type SampleConfig } from './config.js';
