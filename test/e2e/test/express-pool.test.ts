import { defineAdapterSuite } from '../src/harness.js';
import { buildExpressApp } from '../src/apps/express.js';

// The SAML parts of the suite, with responses validated in a worker pool: the same answers and audit.
defineAdapterSuite('express', buildExpressApp, { samlValidation: 'pool' });
