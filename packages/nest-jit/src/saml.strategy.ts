import { Inject, Injectable, type Type } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import {
  MultiSamlStrategy,
  type MultiStrategyConfig,
  type Profile,
  type VerifyWithRequest,
} from '@node-saml/passport-saml';
import { ConfigurationError, type ProvisioningResult, type UserRecord } from '@jit-sso/core';
import {
  authenticateInPool,
  bindLoginsOf,
  readSamlSettings,
  samlOptionsFor,
  samlVerify,
  type ReplayCache,
} from '@jit-sso/protocol';
import { JitService } from './jit.service.js';
import { connectionIdOf, connectionOf } from './protocol/connection-param.js';

export const SAML_STRATEGY = 'jit-saml';

function replayCacheOf(jit: JitService): ReplayCache {
  const cache = jit.options.replayCache;
  if (!cache) throw new ConfigurationError('SAML sign-in needs JitModule options.replayCache.');
  return cache;
}

/** passport-saml's strategy for sign-in only: single logout is not handled (the app ends its own session). */
class MultiSamlSignOnStrategy extends MultiSamlStrategy {
  constructor(options: MultiStrategyConfig, signonVerify: VerifyWithRequest) {
    super(options, signonVerify, (_request, _profile, done) => done(null, undefined));
  }
}

/**
 * passport-saml's `MultiSamlStrategy` as a Nest strategy (`jit-saml`): the connection comes from the
 * URL at each request and node-saml is set up safely from its `protocolOptions.saml`. `validate()`
 * makes the checks node-saml leaves to the app (Issuer, Recipient, SHA-1, transient NameID, replay)
 * and runs the provisioning decision; the user it returns is the `UserRecord`.
 */
@Injectable()
class SamlSignInStrategy extends PassportStrategy(MultiSamlSignOnStrategy, SAML_STRATEGY) {
  constructor(@Inject(JitService) private readonly jit: JitService) {
    const param = jit.options.connectionParam ?? 'connection';
    super({
      passReqToCallback: true,
      getSamlOptions(request, done) {
        connectionOf(jit, request, param, 'saml')
          .then((connection) => done(null, samlOptionsFor(connection, replayCacheOf(jit))))
          .catch((error: Error) => done(error));
      },
    });
    bindLoginsOf(this, () => replayCacheOf(jit));
  }

  /** With `samlValidationPool`, node-saml validates posted responses on the pool's worker threads. */
  override authenticate(request: Parameters<MultiSamlStrategy['authenticate']>[0], options: object): void {
    const pool = this.jit.options.samlValidationPool;
    if (pool) return authenticateInPool(this, pool, request, options);
    super.authenticate(request, options as never);
  }

  private verifier: ReturnType<typeof samlVerify<unknown>> | null = null;

  private get verify(): ReturnType<typeof samlVerify<unknown>> {
    if (this.verifier) return this.verifier;
    const param = this.jit.options.connectionParam ?? 'connection';
    const tenantId = this.jit.options.tenantId;
    this.verifier = samlVerify<unknown>({
      provisioner: this.jit,
      replayCache: replayCacheOf(this.jit),
      connectionId: (request) => connectionIdOf(request, param),
      ...(tenantId ? { tenantId: (request: unknown) => tenantId(request) } : {}),
      relayState: (request) => {
        const relay = (request as { body?: { RelayState?: unknown } }).body?.RelayState;
        return typeof relay === 'string' ? relay : undefined;
      },
    });
    return this.verifier;
  }

  validate(request: unknown, profile: Profile | null): Promise<[UserRecord, { result: ProvisioningResult }]> {
    return new Promise((resolve, reject) =>
      this.verify(request, profile, (error, user, info) =>
        error
          ? reject(error)
          : resolve([user as unknown as UserRecord, info as { result: ProvisioningResult }]),
      ),
    );
  }

  /** The SP metadata of the connection in the request's URL (entity id, ACS URL, signing certificate). */
  async metadata(request: unknown): Promise<string> {
    const param = this.jit.options.connectionParam ?? 'connection';
    const connection = await connectionOf(this.jit, request, param, 'saml');
    const settings = readSamlSettings(connection);
    return new Promise((resolve, reject) =>
      this.generateServiceProviderMetadata(request as never, null, settings.publicCert, (error, xml) =>
        error ? reject(error) : resolve(xml!),
      ),
    );
  }
}

/**
 * The SAML strategy as the app sees it (`@Inject(JitSamlStrategy)`). Declared on its own so that the
 * package's types never name passport-saml's, which bring Express 4's request types into an app.
 */
export interface JitSamlStrategy {
  /** The SP metadata of the connection in the request's URL (entity id, ACS URL, signing certificate). */
  metadata(request: unknown): Promise<string>;
}
export const JitSamlStrategy: Type<JitSamlStrategy> = SamlSignInStrategy;
