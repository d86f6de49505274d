import { consumerSuite } from '../src/suite.js';

consumerSuite('NestJS 10, CommonJS, Jest', { app: 'nest10', jest: true, admin: true });
