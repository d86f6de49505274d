import { consumerSuite } from '../src/suite.js';

consumerSuite('NestJS 12, ESM', { app: 'nest12' });
