import { consumerSuite } from '../src/suite.js';

consumerSuite('Koa 3, ESM', { app: 'koa3' });
