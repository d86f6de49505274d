import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { ConsumerApp } from './consumer.js';
import { signInEndToEnd, startWithDevIdp, writeConnections } from './sign-in.js';

const INSTALL_TIMEOUT = 300_000;

export interface ConsumerSuiteOptions {
  /** The template folder under `apps/`. */
  app: string;
  /** The compiled entry point `node` runs. */
  entry?: string;
  /** The app has its own Jest tests, run with its installed `jest` after the sign-in. */
  jest?: boolean;
}

/**
 * One consumer app from install to sign-in: a fresh project made from its template, `npm install`
 * of the tarballs and its framework versions, strict `tsc`, then `node` and the end-to-end journey.
 * The steps are separate tests in order, so a failure names the step.
 */
export function consumerSuite(title: string, options: ConsumerSuiteOptions): void {
  describe(title, () => {
    let consumer: ConsumerApp;

    beforeAll(async () => {
      consumer = await ConsumerApp.create(options.app, inject('tarballs'));
    });
    afterAll(async () => {
      await consumer?.remove();
    });

    it(
      'installs the packed packages with its framework versions, peer dependencies enforced',
      async () => {
        await consumer.install(inject('installEnv'));
      },
      INSTALL_TIMEOUT,
    );

    it('type-checks with strict tsc, library declarations included', async () => {
      await consumer.compile();
    }, 120_000);

    it('signs in over SAML and OIDC with plain node, and its SCIM mount ends a session', async () => {
      const env = await startWithDevIdp(consumer, options.entry ?? 'dist/main.js');
      try {
        await signInEndToEnd(consumer, env);
      } finally {
        await env.close();
      }
    }, 60_000);

    if (options.jest) {
      it("passes its own Jest tests (ts-jest), which boot the app's module", async () => {
        await writeConnections(consumer, 'http://localhost:3000', 'http://localhost:3001');
        await consumer.bin('jest', ['--ci'], {
          DATABASE_URL: `sqlite:${join(consumer.dir, 'jest.sqlite')}`,
          APP_URL: 'http://localhost:3000',
          SESSION_SECRET: randomBytes(24).toString('base64url'),
        });
      }, 120_000);
    }
  });
}
