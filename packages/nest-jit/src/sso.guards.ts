import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { JitError } from '@jit-sso/core';
import { recordProtocolDenial, refuseDoctypeInEncoded, toProtocolError } from '@jit-sso/protocol';
import { JitService } from './jit.service.js';
import { connectionIdOf } from './protocol/connection-param.js';
import { SAML_STRATEGY } from './saml.strategy.js';
import { OIDC_STRATEGY } from './oidc.strategy.js';

interface SsoRequest {
  body?: Record<string, unknown>;
  user?: unknown;
}

function ssoGuard(protocol: 'saml' | 'oidc', strategy: string) {
  /**
   * Starts a sign-in (redirect to the IdP) or completes one (validates the IdP's answer, provisions,
   * and signs the person in with a new session). Refusals are thrown as `JitError`s and written to
   * the audit; put `JitExceptionFilter` on the route to answer them.
   */
  @Injectable()
  class SsoGuard extends AuthGuard(strategy) {
    constructor(@Inject(JitService) readonly jit: JitService) {
      super();
    }

    override async canActivate(context: ExecutionContext): Promise<boolean> {
      const request = context.switchToHttp().getRequest<SsoRequest>();
      let connectionId = '';
      try {
        connectionId = connectionIdOf(request, this.jit.options.connectionParam ?? 'connection');
        if (protocol === 'saml') {
          refuseDoctypeInEncoded(request.body?.['SAMLResponse']);
          refuseDoctypeInEncoded(request.body?.['SAMLRequest']);
        }
        await super.canActivate(context);
        await this.logIn(request as never);
        return true;
      } catch (error) {
        const refusal = toProtocolError(error, protocol);
        if (connectionId) await recordProtocolDenial(this.jit, { connectionId, error: refusal });
        throw refusal;
      }
    }

    override handleRequest<TUser>(error: unknown, user: unknown, info: unknown): TUser {
      if (error) throw error;
      if (!user) {
        const message = (info as { message?: unknown } | undefined)?.message;
        throw protocol === 'oidc'
          ? toProtocolError(new Error(typeof message === 'string' && message ? message : 'state'), 'oidc')
          : new JitError('SAML_RESPONSE_INVALID', 'The SAML response did not sign anyone in.');
      }
      return user as TUser;
    }
  }
  return SsoGuard;
}

/**
 * A sign-in guard class, as `@UseGuards` takes it. Declared rather than inferred: the inferred class
 * type names @nestjs/passport types that exist only in its version 11 and later.
 */
export interface SsoGuardClass {
  new (jit: JitService): CanActivate;
}

/** `GET /auth/saml/:connection/login` and `POST /auth/saml/:connection/acs`. */
export const SamlAuthGuard: SsoGuardClass = ssoGuard('saml', SAML_STRATEGY);
export type SamlAuthGuard = CanActivate;

/** `GET /auth/oidc/:connection/login` and `GET /auth/oidc/:connection/callback`. */
export const OidcAuthGuard: SsoGuardClass = ssoGuard('oidc', OIDC_STRATEGY);
export type OidcAuthGuard = CanActivate;
