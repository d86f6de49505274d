import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { ConsumerApp } from './consumer.js';
import { signInEndToEnd, startWithDevIdp } from './sign-in.js';

const INSTALL_TIMEOUT = 300_000;

export interface ConsumerSuiteOptions {
  /** The template folder under `apps/`. */
  app: string;
  /** The compiled entry point `node` runs. */
  entry?: string;
  /** More checks on the installed and compiled app (e.g. its own test runner). */
  extra?: (consumer: () => ConsumerApp) => void;
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

    options.extra?.(() => consumer);
  });
}
