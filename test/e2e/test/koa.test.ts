import { defineAdapterSuite } from '../src/harness.js';
import { buildKoaApp } from '../src/apps/koa.js';

defineAdapterSuite('koa', buildKoaApp);
