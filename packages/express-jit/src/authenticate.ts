import type { Request, RequestHandler, Response } from 'express';
import type { Provisioner, ProvisioningResult } from '@jit-sso/core';
import {
  createSignInFlow,
  registeredStrategy,
  type LoginAdmission,
  type OidcStrategies,
  type PassportStrategyLike,
  type SignInOutcome,
  type SignInProtocol,
} from '@jit-sso/protocol';
import type { PassportLike } from './passport-types.js';

export interface SsoRouteOptions {
  provisioner: Provisioner;
  /** The route parameter naming the connection (default `connection`). */
  connectionParam?: string;
  /** Establish a passport login session (default true). With false, `req.user` is set for this request only. */
  session?: boolean;
}

declare module 'express-serve-static-core' {
  interface Locals {
    /** The provisioning decision of the login that this request completed. */
    jitResult?: ProvisioningResult;
    /** The decision of a test sign-in (`TEST_SIGN_IN_RELAY_STATE`): nothing was written, nobody signed in. */
    jitTestResult?: ProvisioningResult;
  }
}

/** Renders the flow's outcome: Express only translates the request and the response. */
function signInRoute(
  protocol: SignInProtocol,
  strategy: (connectionId: string) => PassportStrategyLike | Promise<PassportStrategyLike>,
  options: SsoRouteOptions,
): RequestHandler {
  const signIn = createSignInFlow<Request>({
    protocol,
    provisioner: options.provisioner,
    connectionParam: options.connectionParam,
    strategy,
  });
  return (req, res, next) => {
    signIn(req).then((outcome) => {
      setCookies(res, outcome);
      if (outcome.kind === 'refused') return next(outcome.error);
      if (outcome.kind === 'redirect') return res.redirect(outcome.status, outcome.location);
      if (outcome.kind === 'tested') {
        res.locals.jitTestResult = outcome.result;
        return next();
      }
      if (outcome.result) res.locals.jitResult = outcome.result;
      if (options.session === false) {
        req.user = outcome.user as Express.User;
        return next();
      }
      req.logIn(outcome.user as Express.User, (error) => next(error));
    }, next);
  };
}

function setCookies(res: Response, outcome: SignInOutcome): void {
  for (const { name, value, maxAgeMs, ...attributes } of outcome.cookies)
    res.cookie(name, value, { ...attributes, maxAge: maxAgeMs });
}

/**
 * `GET /auth/saml/:connection/login` (redirects to the IdP) and `POST /auth/saml/:connection/acs`
 * (validates the response and signs the person in; parse the body with `express.urlencoded` first).
 * Refusals reach the error handler as `JitError`s and are written to the audit.
 */
export function samlAuthenticate(
  passport: PassportLike,
  options: SsoRouteOptions & { strategy?: string },
): RequestHandler {
  const name = options.strategy ?? 'saml';
  return signInRoute('saml', () => registeredStrategy(passport, name), options);
}

/** `GET /auth/oidc/:connection/login` and `GET /auth/oidc/:connection/callback`. */
export function oidcAuthenticate(
  _passport: PassportLike,
  strategies: OidcStrategies,
  options: SsoRouteOptions,
): RequestHandler {
  return signInRoute('oidc', (connectionId) => strategies.strategyFor(connectionId), options);
}

/**
 * Admission of SAML logins (`LoginAdmission`): mount it on the ACS route before `express.urlencoded`,
 * so that a waiting login has not had its body read. A full waiting line reaches the error handler as
 * `SERVER_BUSY` (503, `Retry-After`); a client that leaves while waiting gets nothing.
 */
export function admitLogins(admission: LoginAdmission): RequestHandler {
  return (req, res, next) => {
    admission.admit(req, res).then((admitted) => {
      if (admitted) next();
    }, next);
  };
}
