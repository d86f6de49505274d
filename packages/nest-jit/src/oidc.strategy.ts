import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { ProvisioningResult, UserRecord } from '@jit-sso/core';
import { oidcVerify, type OidcTokens } from '@jit-sso/protocol';
import { JitService } from './jit.service.js';
import { connectionIdOf, connectionOf } from './protocol/connection-param.js';
import { MultiOidcStrategy } from './protocol/multi-oidc.strategy.js';

export const OIDC_STRATEGY = 'jit-oidc';

/**
 * The Nest strategy (`jit-oidc`) for every OIDC connection: the connection comes from the URL, its
 * `openid-client` strategy makes the protocol checks, and `validate()` checks the Entra `tid`
 * allow-list and runs the provisioning decision on the validated ID token claims.
 */
@Injectable()
export class JitOidcStrategy extends PassportStrategy(MultiOidcStrategy, OIDC_STRATEGY) {
  constructor(@Inject(JitService) private readonly jit: JitService) {
    const param = jit.options.connectionParam ?? 'connection';
    super({
      connectionOf: (request: unknown) => connectionOf(jit, request, param, 'oidc'),
    });
  }

  validate(request: unknown, tokens: OidcTokens): Promise<[UserRecord, { result: ProvisioningResult }]> {
    const param = this.jit.options.connectionParam ?? 'connection';
    const tenantId = this.jit.options.tenantId;
    const verify = oidcVerify<unknown>({
      provisioner: this.jit,
      connectionId: connectionIdOf(request, param),
      ...(tenantId ? { tenantId: (r: unknown) => tenantId(r) } : {}),
    });
    return new Promise((resolve, reject) =>
      verify(request, tokens, (error, user, info) =>
        error ? reject(error) : resolve([user as UserRecord, info as { result: ProvisioningResult }]),
      ),
    );
  }
}
