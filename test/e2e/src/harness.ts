import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createE2eEnvironment,
  type AppEnvironment,
  type E2eEnvironment,
  type SamlValidationMode,
} from './environment.js';
import { registerSamlFlows } from './suite/saml-flows.js';
import { registerOidcFlows, registerOidcLifecycle } from './suite/oidc-flows.js';
import { registerSamlAttacks } from './suite/saml-attacks.js';
import { registerOidcAttacks } from './suite/oidc-attacks.js';
import { registerScimLifecycle } from './suite/scim-lifecycle.js';
import { registerLoginCsrf } from './suite/login-csrf.js';
import {
  expectRefused,
  expectSignedIn,
  newPerson,
  samlLogin,
  samlUser,
  type SuiteContext,
} from './suite/context.js';
import { Browser } from './browser.js';

export type { AppEnvironment, E2eEnvironment, SamlValidationMode } from './environment.js';
export { Browser, readForm } from './browser.js';

/** A running adapter app that serves the suite's routes on `env.baseUrl`. */
export interface AdapterApp {
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * Builds the app under test. It must listen on 127.0.0.1:`env.port` and serve:
 * `GET /auth/saml/:connection/login`, `POST /auth/saml/:connection/acs`, `GET /auth/saml/:connection/metadata`,
 * `GET /auth/oidc/:connection/login`, `GET /auth/oidc/:connection/callback`, `GET /me` (JSON `{ user, roles }`),
 * `POST /logout`, and the SCIM service `env.scim` at `/scim/v2`; a successful login answers a redirect; errors answer `err.httpStatus` with
 * `{ error: { code, message, hint } }` when the client accepts JSON.
 */
export type BuildAdapterApp = (env: AppEnvironment) => Promise<AdapterApp>;

/**
 * Registers every flow and attack test against the app `build` returns. With `samlValidation:
 * 'pool'` the app validates SAML responses in a worker pool (`env.samlValidationPool`), and only
 * the tests that go through SAML validation run: SAML flows, SAML attacks and login CSRF.
 */
export function defineAdapterSuite(
  name: string,
  build: BuildAdapterApp,
  options: { samlValidation?: SamlValidationMode } = {},
): void {
  const mode = options.samlValidation ?? 'in-process';
  describe(`${name} adapter${mode === 'pool' ? ', SAML validated in a worker pool' : ''}`, () => {
    let env: E2eEnvironment | undefined;
    let app: AdapterApp | undefined;
    beforeAll(async () => {
      env = await createE2eEnvironment(mode);
      app = await build(env);
    });
    afterAll(async () => {
      await app?.close();
      await env?.close();
    });
    const context: SuiteContext = {
      get env() {
        if (!env) throw new Error('environment not started');
        return env;
      },
      get baseUrl() {
        if (!app) throw new Error('app not started');
        return app.baseUrl;
      },
    };
    registerSamlFlows(context);
    registerSamlAttacks(context);
    registerLoginCsrf(context);
    if (mode === 'pool') {
      it('answers 503 SERVER_BUSY with Retry-After while the line of logins is full; the same post succeeds once it empties', async () => {
        const admission = context.env.loginAdmission!;
        // The test holds every turn and every place in the line.
        const turns = await Promise.all(Array.from({ length: admission.limit }, () => admission.enter()));
        const waiting = Array.from({ length: admission.maxWaiting }, () => admission.enter());
        const person = newPerson();
        const browser = new Browser();
        const login = await samlLogin(context, browser, 'acme-saml', samlUser(person));
        expectRefused(login.response, 'SERVER_BUSY');
        const again = await fetch(login.request.acsUrl, {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(login.posted).toString(),
        });
        expect(again.status).toBe(503);
        expect(again.headers.get('retry-after')).toBe('2');
        expect(await context.env.store.findUserByEmail('acme', person.email)).toBeNull();
        for (const leave of turns) leave();
        for (const turn of waiting) (await turn)();
        // Nothing of the refused post was used up: posted again from its browser, it signs in.
        const retried = await browser.post(login.request.acsUrl, login.posted, { json: true });
        await expectSignedIn(context, browser, retried, person.email);
        expect([admission.active, admission.waiting]).toEqual([0, 0]);
      });
      it('validated the SAML responses of these tests in the worker pool', () => {
        expect(context.env.samlValidationPool?.completed).toBeGreaterThanOrEqual(30);
      });
      return;
    }
    registerOidcFlows(context);
    registerOidcLifecycle(context);
    registerOidcAttacks(context);
    registerScimLifecycle(context);
  });
}
