import { defineAdapterSuite } from '../src/harness.js';
import { buildKoaApp } from '../src/apps/koa.js';

// The SAML parts of the suite, with responses validated in a worker pool: the same answers and audit.
defineAdapterSuite('koa', buildKoaApp, { samlValidation: 'pool' });
