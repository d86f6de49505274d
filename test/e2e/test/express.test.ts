import { defineAdapterSuite } from '../src/harness.js';
import { buildExpressApp } from '../src/apps/express.js';

defineAdapterSuite('express', buildExpressApp);
