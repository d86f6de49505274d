import {
  ConfigurationError,
  JitError,
  type Provisioner,
  type ProvisioningResult,
  type UserRecord,
} from '@jit-sso/core';
import { connectionIdOf, type SsoRequest } from './connection-param.js';
import { refuseDoctypeInEncoded } from './doctype.js';
import { recordProtocolDenial, toProtocolError } from './errors.js';
import { bindLogin } from './login-binding.js';

export type SignInProtocol = 'saml' | 'oidc';

/** A passport strategy (passport-saml, openid-client's, or one of the app's): the flow runs it as passport does. */
export interface PassportStrategyLike {
  authenticate(req: never, options?: object): void;
}

/** What a strategy ended with: passport's five actions, as a value. */
export type StrategyAction =
  | { action: 'success'; user: unknown; info: unknown }
  | { action: 'fail'; challenge: unknown; status: number | undefined }
  | { action: 'redirect'; url: string; status: number }
  | { action: 'pass' }
  | { action: 'error'; error: unknown };

/**
 * Runs a passport strategy on a request and hands back the action it ended with, instead of
 * passport's writing to the response: the way passport's `authenticate` middleware calls it (a
 * fresh object over the strategy carrying the actions), without a framework.
 */
export function runStrategy(
  strategy: PassportStrategyLike,
  request: object,
  options: object = {},
): Promise<StrategyAction> {
  return new Promise((resolve) => {
    const attempt = Object.create(strategy) as PassportStrategyLike & Record<string, unknown>;
    attempt['success'] = (user: unknown, info: unknown) => resolve({ action: 'success', user, info });
    attempt['fail'] = (challenge: unknown, status?: number) =>
      resolve({
        action: 'fail',
        challenge: typeof challenge === 'number' ? undefined : challenge,
        status: typeof challenge === 'number' ? challenge : status,
      });
    attempt['redirect'] = (url: string, status?: number) =>
      resolve({ action: 'redirect', url, status: status ?? 302 });
    attempt['pass'] = () => resolve({ action: 'pass' });
    attempt['error'] = (error: unknown) => resolve({ action: 'error', error });
    try {
      attempt.authenticate(request as never, options);
    } catch (error) {
      resolve({ action: 'error', error });
    }
  });
}

/** A cookie the adapter sets (or clears, with `maxAgeMs: 0`) with its answer. */
export interface SignInCookie {
  name: string;
  value: string;
  httpOnly: true;
  secure: boolean;
  sameSite: 'none' | 'lax';
  path: '/';
  maxAgeMs: number;
}

/** What the adapter answers: the IdP redirect, a signed-in person, or a refusal (already audited). */
export type SignInOutcome =
  | { kind: 'redirect'; status: number; location: string; cookies: readonly SignInCookie[] }
  | {
      kind: 'signed-in';
      user: UserRecord;
      result: ProvisioningResult | undefined;
      cookies: readonly SignInCookie[];
    }
  | { kind: 'refused'; error: JitError; cookies: readonly SignInCookie[] }
  /** A test sign-in (`TEST_SIGN_IN_RELAY_STATE`): the decision, nothing written, nobody signed in. */
  | { kind: 'tested'; result: ProvisioningResult; cookies: readonly SignInCookie[] };

export interface SignInFlowOptions<R extends SsoRequest> {
  protocol: SignInProtocol;
  provisioner: Provisioner;
  /** The route parameter naming the connection (default `connection`). */
  connectionParam?: string | undefined;
  /** The passport strategy that serves the connection of this request. */
  strategy(connectionId: string, request: R): PassportStrategyLike | Promise<PassportStrategyLike>;
}

/** The request as the flow reads it: what the strategy reads (`params`, `body`, `query`, `headers`, `session`). */
export type SignInRequest = SsoRequest & object;

/**
 * The sign-in flow, the same on every framework: it names the connection from the route, refuses a
 * DOCTYPE before any XML parser sees the message, runs the connection's strategy (which starts the
 * login with a redirect to the IdP, or completes it: protocol checks, then the provisioning
 * decision), and turns what happened into a value the adapter renders. Every refusal of a request
 * that names a connection is written to the audit, an unknown connection included.
 */
export function createSignInFlow<R extends SignInRequest>(
  options: SignInFlowOptions<R>,
): (request: R) => Promise<SignInOutcome> {
  const { protocol, provisioner } = options;
  const param = options.connectionParam ?? 'connection';

  return async (request) => {
    let connectionId = '';
    try {
      connectionId = connectionIdOf(request, param);
      if (protocol === 'saml') {
        const body = request.body as Record<string, unknown> | undefined;
        refuseDoctypeInEncoded(body?.['SAMLResponse']);
        refuseDoctypeInEncoded(body?.['SAMLRequest']);
      }
      const strategy = await options.strategy(connectionId, request);
      const done = await runStrategy(strategy, request);
      switch (done.action) {
        case 'redirect': {
          const cookies =
            protocol === 'saml' ? await bindLogin(strategy, request, connectionId, done.url) : [];
          return { kind: 'redirect', status: done.status, location: done.url, cookies };
        }
        case 'success': {
          const info = done.info as { result?: ProvisioningResult; test?: boolean } | undefined;
          if (info?.test === true && info.result) return { kind: 'tested', result: info.result, cookies: [] };
          const result = info?.result;
          return { kind: 'signed-in', user: done.user as UserRecord, result, cookies: [] };
        }
        case 'error':
          throw done.error;
        case 'fail':
          throw notSignedIn(protocol, done.challenge);
        case 'pass':
          throw notSignedIn(protocol, undefined);
      }
    } catch (error) {
      const refusal = toProtocolError(error, protocol);
      if (connectionId) await recordProtocolDenial(provisioner, { connectionId, error: refusal });
      return { kind: 'refused', error: refusal, cookies: [] };
    }
  };
}

/** A strategy that failed without an error: openid-client's state check, or a SAML message that was not a login. */
function notSignedIn(protocol: SignInProtocol, challenge: unknown): JitError {
  if (protocol === 'saml') {
    return new JitError('SAML_RESPONSE_INVALID', 'The SAML response did not sign anyone in.');
  }
  const message = (challenge as { message?: unknown } | undefined)?.message;
  return toProtocolError(new Error(typeof message === 'string' && message ? message : 'state'), 'oidc');
}

/** A passport instance (passport's or koa-passport's): `_strategy` is its own lookup, left out of its typings. */
export interface PassportRegistry {
  _strategy?(name: string): PassportStrategyLike | undefined;
}

/** The strategy registered on a passport instance under a name. */
export function registeredStrategy(passport: PassportRegistry, name: string): PassportStrategyLike {
  const found = passport._strategy?.(name);
  if (!found) throw new ConfigurationError(`No passport strategy is registered as "${name}".`);
  return found;
}
