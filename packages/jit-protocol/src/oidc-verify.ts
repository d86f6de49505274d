import {
  fromOidcClaims,
  isJitError,
  JitError,
  type Connection,
  type Provisioner,
  type ProvisioningResult,
  type SsoProfile,
} from '@jit-sso/core';
import { claimsForEngine } from './entra.js';
import { markAudited, recordProtocolDenial } from './errors.js';

export interface OidcVerifyOptions<Req> {
  provisioner: Provisioner;
  connectionId: string;
  /** The connection the strategy was built from: the login ends with that snapshot. */
  connection?: Connection;
  tenantId?(req: Req): string | undefined;
}

const testSignIns = new WeakSet<object>();

/** Marks the request as the callback of a test sign-in (from the login's server-side state). */
export function markOidcTestSignIn(req: object): void {
  testSignIns.add(req);
}

/** What openid-client's passport strategy hands to verify: the token endpoint response. */
export interface OidcTokens {
  claims(): Record<string, unknown> | undefined;
}

export type OidcVerifyDone = (error: Error | null, user?: object | false, info?: object) => void;

/**
 * The verify step for `openid-client/passport` (`passReqToCallback: true`): the Entra `tid` allow-list,
 * then the provisioning decision on the validated ID token claims.
 */
export function oidcVerify<Req>(options: OidcVerifyOptions<Req>) {
  return (req: Req, tokens: OidcTokens, done: OidcVerifyDone): void => {
    provisionClaims(options, req, () => {
      const claims = tokens.claims();
      if (!claims) throw new JitError('OIDC_CALLBACK_INVALID', 'The identity provider returned no ID token.');
      return claims;
    }).then(
      ({ result, test }) => done(null, result.user, test ? { result, test } : { result }),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  };
}

async function provisionClaims<Req>(
  options: OidcVerifyOptions<Req>,
  req: Req,
  readClaims: () => Record<string, unknown>,
): Promise<{ result: ProvisioningResult; test: boolean }> {
  const { provisioner, connectionId } = options;
  const test = typeof req === 'object' && req !== null && testSignIns.has(req);
  let subject: string | null = null;
  try {
    const claims = readClaims();
    subject = typeof claims['sub'] === 'string' ? claims['sub'] : null;
    const connection = options.connection ?? (await provisioner.getConnection(connectionId));
    const profile = fromOidcClaims(claimsForEngine(connection, claims));
    try {
      const result = await provisioner.provision({
        // A test sign-in (started with `TEST_SIGN_IN_RELAY_STATE`): the decision, nothing written.
        dryRun: test,
        connectionId,
        connection,
        tenantId: options.tenantId?.(req),
        profile,
      });
      return { result, test };
    } catch (error) {
      if (isJitError(error)) markAudited(error);
      throw error;
    }
  } catch (error) {
    if (isJitError(error)) await recordProtocolDenial(provisioner, { connectionId, error, subject });
    throw error;
  }
}

/** The profile `passport-openidconnect` passes to its verify callback. */
export interface PassportOpenIdConnectProfile {
  id: string;
  _json?: Record<string, unknown>;
  emails?: { value: string }[];
}

/**
 * For apps that already use `passport-openidconnect`: its profile as an `SsoProfile`. That strategy
 * does NOT verify the ID token's signature (it decodes it), so prefer `openid-client/passport`; use
 * this only behind TLS to the token endpoint of an issuer you trust.
 */
export function fromPassportOpenIdConnect(issuer: string, profile: PassportOpenIdConnectProfile): SsoProfile {
  const claims: Record<string, unknown> = { ...(profile._json ?? {}), iss: issuer, sub: profile.id };
  if (claims['email'] === undefined && profile.emails?.[0]?.value) claims['email'] = profile.emails[0].value;
  return fromOidcClaims(claims);
}

/** A `passport-openidconnect` verify callback (`passReqToCallback: true`) that runs the engine. */
export function passportOpenIdConnectVerify<Req>(options: OidcVerifyOptions<Req>) {
  return (req: Req, issuer: string, profile: PassportOpenIdConnectProfile, done: OidcVerifyDone): void => {
    provisionClaims(options, req, () => ({ ...(profile._json ?? {}), iss: issuer, sub: profile.id })).then(
      ({ result }) => done(null, result.user, { result }),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  };
}
