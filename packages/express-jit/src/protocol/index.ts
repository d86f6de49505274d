/**
 * Framework-independent protocol checks shared by the Express, NestJS and Koa adapters: no HTTP
 * framework is imported here.
 */
export { refuseDoctype, refuseDoctypeInEncoded } from './doctype.js';
export {
  checkSamlAssertion,
  type CheckedAssertion,
  type SamlExpectations,
  type VerifiedSamlXml,
} from './saml-checks.js';
export {
  consumeAssertion,
  MemoryReplayCache,
  RedisReplayCache,
  type RedisClientLike,
  type ReplayCache,
  type ReplayCacheOptions,
} from './replay-cache.js';
export { PostgresReplayCache, type PgQueryable } from './postgres-replay-cache.js';
export { checkTenantId, claimsForEngine, isEntraMultiTenantIssuer } from './entra.js';
export { isAudited, markAudited, recordProtocolDenial, toProtocolError } from './errors.js';
export { samlOptionsFor, readSamlSettings, type SamlSettings } from './saml-options.js';
export { readOidcSettings, type OidcSettings } from './oidc-settings.js';
export { samlVerify, type SamlVerifyOptions } from './saml-verify.js';
export {
  fromPassportOpenIdConnect,
  oidcVerify,
  passportOpenIdConnectVerify,
  type OidcTokens,
  type OidcVerifyOptions,
  type PassportOpenIdConnectProfile,
} from './oidc-verify.js';
