import { runFromEnvironment } from '@jit-sso/sample-express';
import { startNestSample } from './start.js';

// `npm start -w @jit-sso/sample-nest`: the same port plan and environment as the Express sample.
await runFromEnvironment('NestJS', startNestSample);
