import { defineAdapterSuite } from '../src/harness.js';
import { buildNestApp } from '../src/apps/nest.js';

// The SAML parts of the suite, with responses validated in a worker pool: the same answers and audit.
defineAdapterSuite('nest', buildNestApp, { samlValidation: 'pool' });
