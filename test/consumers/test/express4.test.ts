import { consumerSuite } from '../src/suite.js';

consumerSuite('Express 4, CommonJS', { app: 'express4', webhooks: true, admin: true });
