import { consumerSuite } from '../src/suite.js';

// Started as production apps often are, with V8 options (which a worker thread may not be given):
// its SAML validation pool must still start.
consumerSuite('Express 4, CommonJS', {
  app: 'express4',
  webhooks: true,
  admin: true,
  nodeOptions: ['--max-old-space-size=512', '--stack-trace-limit=50'],
});
