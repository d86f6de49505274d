import { defineOnboardingSuite } from '../src/onboarding.js';
import { buildExpressApp } from '../src/apps/express.js';
import { buildKoaApp } from '../src/apps/koa.js';
import { buildNestApp } from '../src/apps/nest.js';

defineOnboardingSuite('express', buildExpressApp);
defineOnboardingSuite('koa', buildKoaApp);
defineOnboardingSuite('nest', buildNestApp);
