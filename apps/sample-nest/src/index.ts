export { createNestSampleApp, SampleErrorFilter } from './app.js';
export { startNestSample } from './start.js';
