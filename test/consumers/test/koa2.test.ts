import { consumerSuite } from '../src/suite.js';

consumerSuite('Koa 2, CommonJS', { app: 'koa2' });
