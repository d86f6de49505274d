import { defineAdapterSuite } from '../src/harness.js';
import { buildNestApp } from '../src/apps/nest.js';

defineAdapterSuite('nest', buildNestApp);
