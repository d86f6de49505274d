import { consumerSuite } from '../src/suite.js';

consumerSuite('Express 5, ESM', { app: 'express5' });
