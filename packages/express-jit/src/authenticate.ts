import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { PassportLike } from './passport-types.js';
import {
  isJitError,
  JitError,
  type Provisioner,
  type ProvisioningResult,
  type UserRecord,
} from '@jit-sso/core';
import {
  connectionIdOf,
  recordProtocolDenial,
  refuseDoctypeInEncoded,
  toProtocolError,
  type OidcStrategies,
} from '@jit-sso/protocol';

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
  }
}

type StrategyOf = (req: Request) => Promise<unknown> | unknown;

function ssoHandler(
  passport: PassportLike,
  protocol: 'saml' | 'oidc',
  strategyOf: StrategyOf,
  options: SsoRouteOptions,
): RequestHandler {
  const param = options.connectionParam ?? 'connection';
  return (req: Request, res: Response, next: NextFunction) => {
    let connectionId = '';
    const refuse = (error: unknown) => {
      const jit = toProtocolError(error, protocol);
      // A URL naming no connection belongs to no tenant: it is answered, not audited.
      const audited = connectionId !== '' && jit.code !== 'UNKNOWN_CONNECTION';
      const audit = audited
        ? recordProtocolDenial(options.provisioner, { connectionId, error: jit })
        : Promise.resolve(null);
      audit.then(
        () => next(jit),
        () => next(jit),
      );
    };
    (async () => {
      connectionId = connectionIdOf(req, param);
      if (protocol === 'saml') {
        refuseDoctypeInEncoded(req.body?.SAMLResponse);
        refuseDoctypeInEncoded(req.body?.SAMLRequest);
      }
      return strategyOf(req);
    })().then(
      (strategy) => {
        passport.authenticate(
          strategy as never,
          { session: false },
          (error: unknown, found: unknown, info: unknown) => {
            const user = found as UserRecord | false | undefined;
            if (error) return refuse(error);
            if (!user) {
              const message =
                typeof (info as { message?: unknown })?.message === 'string'
                  ? (info as { message: string }).message
                  : '';
              return refuse(
                protocol === 'oidc'
                  ? toProtocolError(new Error(message || 'state'), 'oidc')
                  : new JitError('SAML_RESPONSE_INVALID', 'The SAML response did not sign anyone in.'),
              );
            }
            const result = (info as { result?: ProvisioningResult })?.result;
            if (result) res.locals.jitResult = result;
            if (options.session === false) {
              req.user = user as Express.User;
              return next();
            }
            req.logIn(user as Express.User, (loginError) => (loginError ? next(loginError) : next()));
          },
        )(req, res, next);
      },
      (error: unknown) => (isJitError(error) && !connectionId ? next(error) : refuse(error)),
    );
  };
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
  return ssoHandler(passport, 'saml', () => options.strategy ?? 'saml', options);
}

/** `GET /auth/oidc/:connection/login` and `GET /auth/oidc/:connection/callback`. */
export function oidcAuthenticate(
  passport: PassportLike,
  strategies: OidcStrategies,
  options: SsoRouteOptions,
): RequestHandler {
  const param = options.connectionParam ?? 'connection';
  return ssoHandler(passport, 'oidc', (req) => strategies.strategyFor(connectionIdOf(req, param)), options);
}
