import {
  fromSamlProfile,
  isJitError,
  JitError,
  type Connection,
  type Provisioner,
  type ProvisioningResult,
} from '@jit-sso/core';
import type { Profile } from '@node-saml/node-saml';

/** The profile node-saml hands to the verify step. */
export type SamlProfile = Profile;
import { checkSamlAssertion } from './saml-checks.js';
import { consumeAssertion, type ReplayCache } from './replay-cache.js';
import { markAudited, recordProtocolDenial } from './errors.js';
import { readSamlSettings } from './saml-options.js';
import { checkLoginBinding } from './login-binding.js';
import { precheckedAssertion } from './saml-precheck.js';

export interface SamlVerifyOptions<Req> {
  provisioner: Provisioner;
  /** The cache given to node-saml as `cacheProvider`; also consumes assertion ids. */
  replayCache: ReplayCache;
  /** The connection id of the request (from the URL). */
  connectionId(req: Req): string;
  /** The tenant being signed into, when the app knows it from the request (host, path); optional. */
  tenantId?(req: Req): string | undefined;
  /** The RelayState of the request, checked against the allow-list of IdP-initiated logins. */
  relayState?(req: Req): string | undefined;
  /**
   * The connection node-saml checked the response with, when the strategy kept it: the login ends
   * with that snapshot, even if the connection changed meanwhile.
   */
  connectionOf?(req: Req): Connection | undefined;
}

/**
 * The RelayState that makes a sign-in a test (`/auth/saml/:connection/login?RelayState=...`, and the
 * same on `/auth/oidc/:connection/login`): the response is checked and the decision made as for a
 * real sign-in, but nothing is written and nobody is signed in; the adapters hand the decision to the
 * app (`kind: 'tested'`). Only for sign-ins this app started (an answered AuthnRequest; for OIDC the
 * mark is kept in the login's server-side state, never read from the callback).
 */
export const TEST_SIGN_IN_RELAY_STATE = 'jit-sso:test-sign-in';

export type SamlVerifyDone = (
  error: Error | null,
  user?: Record<string, unknown>,
  info?: Record<string, unknown>,
) => void;

/**
 * The passport-saml verify step (`passReqToCallback: true`): the checks node-saml leaves to the app,
 * replay protection, then the provisioning decision. Every refusal is a `JitError` written to the audit.
 * The user handed to passport is the `UserRecord`; `info.result` is the whole `ProvisioningResult`.
 */
export function samlVerify<Req>(options: SamlVerifyOptions<Req>) {
  const { provisioner, replayCache } = options;
  return (req: Req, profile: Profile | null, done: SamlVerifyDone): void => {
    const connectionId = options.connectionId(req);
    run(req, connectionId, profile).then(
      ({ result, test }) =>
        done(null, result.user as unknown as Record<string, unknown>, test ? { result, test } : { result }),
      async (error: unknown) => {
        if (isJitError(error)) {
          await recordProtocolDenial(provisioner, { connectionId, error, subject: profile?.nameID ?? null });
        }
        done(error instanceof Error ? error : new Error(String(error)));
      },
    );
  };

  async function run(
    req: Req,
    connectionId: string,
    profile: Profile | null,
  ): Promise<{ result: ProvisioningResult; test: boolean }> {
    if (!profile) throw new JitError('SAML_RESPONSE_INVALID', 'The SAML message carries no login.');
    const connection = options.connectionOf?.(req) ?? (await provisioner.getConnection(connectionId));
    const settings = readSamlSettings(connection);
    // Made on the worker thread when a SamlValidationPool validated the response.
    const checked =
      precheckedAssertion(profile) ??
      checkSamlAssertion(profile, {
        idpEntityId: settings.idpEntityId,
        acsUrl: settings.acsUrl,
        allowSha1: settings.allowSha1,
      });
    const test = Boolean(checked.inResponseTo) && options.relayState?.(req) === TEST_SIGN_IN_RELAY_STATE;
    if (checked.inResponseTo) {
      await checkLoginBinding(replayCache, req, { requestId: checked.inResponseTo, connectionId });
    } else {
      if (!settings.allowIdpInitiated) {
        throw new JitError(
          'SAML_UNSOLICITED',
          'The response does not answer a sign-in this application started, and the connection does not accept IdP-initiated sign-ins.',
        );
      }
      const relayState = options.relayState?.(req) ?? '';
      if (relayState !== '' && !settings.relayStateAllowList.includes(relayState)) {
        throw new JitError(
          'SAML_RESPONSE_INVALID',
          'The RelayState of this IdP-initiated login is not on the allow-list.',
        );
      }
    }
    // The cache refuses a replay fast; the store's record, written in the login's transaction,
    // refuses it durably (a flushed or restarted cache forgets, the database does not).
    const ttlMs = await consumeAssertion(replayCache, checked, { clockSkewMs: settings.clockSkewMs });
    const ssoProfile = fromSamlProfile(profile);
    try {
      const result = await provisioner.provision({
        dryRun: test,
        connectionId,
        connection,
        tenantId: options.tenantId?.(req),
        profile: ssoProfile,
        singleUse: {
          key: `${checked.issuer}\n${checked.assertionId}`,
          expiresAt: new Date(Date.now() + ttlMs),
        },
      });
      return { result, test };
    } catch (error) {
      if (isJitError(error)) markAudited(error);
      throw error;
    }
  }
}
