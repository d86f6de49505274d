/**
 * The protocol side of jit-sso that no HTTP framework decides: the SAML and OIDC checks the protocol
 * libraries leave to the app, replay caches, node-saml and openid-client set-up, the verify steps, the
 * passport strategies, and the sign-in flow that runs them and answers refusals. The Express, NestJS and Koa adapters are built on it.
 */
export { refuseDoctype, refuseDoctypeInEncoded } from './doctype.js';
export { LoginAdmission, type LoginAdmissionOptions } from './admission.js';
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
export { recordProtocolDenial, toProtocolError } from './errors.js';
export {
  createSignInFlow,
  registeredStrategy,
  runStrategy,
  type PassportRegistry,
  type PassportStrategyLike,
  type SignInCookie,
  type SignInFlowOptions,
  type SignInOutcome,
  type SignInProtocol,
  type SignInRequest,
  type StrategyAction,
} from './sign-in.js';
export {
  answerRefusal,
  escapeHtml,
  jitErrorBody,
  refusalPage,
  type RefusalAnswer,
  type RefusalOptions,
  type RefusedRequest,
} from './refusal-page.js';
export { bindLoginsOf } from './login-binding.js';
export { samlOptionsFor, readSamlSettings, type SamlSettings } from './saml-options.js';
export { readOidcSettings, type OidcSettings } from './oidc-settings.js';
export { checkConnectionSettings, checkProvisionerConnections } from './connection-settings.js';
export {
  samlVerify,
  TEST_SIGN_IN_RELAY_STATE,
  type SamlProfile,
  type SamlVerifyDone,
  type SamlVerifyOptions,
} from './saml-verify.js';
export {
  fromPassportOpenIdConnect,
  oidcVerify,
  passportOpenIdConnectVerify,
  type OidcTokens,
  type OidcVerifyDone,
  type OidcVerifyOptions,
  type PassportOpenIdConnectProfile,
} from './oidc-verify.js';
export { connectionIdOf, type SsoRequest } from './connection-param.js';
export {
  authenticateInPool,
  createSamlStrategy,
  type SamlStrategy,
  type SamlStrategyOptions,
} from './saml-strategy.js';
export { SamlValidationPool, type PooledValidation, type SamlValidationPoolOptions } from './saml-pool.js';
export {
  createOidcStrategies,
  createOidcStrategy,
  discoverOidcConfiguration,
  JitOidcStrategy,
  type OidcStrategies,
  type OidcStrategiesOptions,
  type OidcStrategyVerify,
} from './oidc-strategy.js';
export {
  detectOidcPreset,
  detectSamlPreset,
  discoveryUrlOf,
  isSamlMetadataSigned,
  parseOidcDiscovery,
  parseSamlMetadata,
  readCertificate,
  verifySamlMetadataSignature,
  type OidcDiscovery,
  type SamlIdpMetadata,
  type SigningCertificate,
} from './admin/metadata.js';
export { AdminError, isAdminError, toAdminError, type AdminErrorCode } from './admin/errors.js';
export {
  createAdminService,
  DEFAULT_ADMIN_ROUTES,
  type AdminCaller,
  type AdminRoutes,
  type AdminService,
  type AdminServiceOptions,
  type AdminWebhookOptions,
  type ScimTokenView,
  type CertificateReport,
  type ConnectionView,
  type DomainView,
  type JitPolicyView,
  type MappingPreview,
  type SamlImportReport,
  type ServiceProviderValues,
  type WebhookSecretView,
} from './admin/service.js';
export {
  CHALLENGE_LABEL,
  CHALLENGE_PREFIX,
  challengeRecord,
  normaliseClaimedDomain,
  type DnsChallenge,
  type TxtResolver,
} from './admin/domains.js';
export { fetchDocument, isPrivateAddress, type DocumentFetchOptions } from './admin/fetch.js';
export {
  defaultRedaction,
  MemorySignInTracer,
  redactAttributes,
  type Redaction,
  type SignInTracer,
  type SignInTracerOptions,
  type TracedAttempt,
} from '@jit-sso/core';
export {
  createAdminApi,
  createAdminNodeHandler,
  type AdminApi,
  type AdminApiRequest,
  type AdminApiResponse,
  type AdminNodeHandler,
  type AdminNodeHandlerOptions,
} from './admin/api.js';
