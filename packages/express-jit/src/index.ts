export { createSamlStrategy, samlMetadata, type SamlStrategyOptions } from './saml.js';
export {
  createOidcStrategies,
  JitOidcStrategy,
  readOidcSettings,
  type OidcSettings,
  type OidcStrategies,
  type OidcStrategiesOptions,
} from './oidc.js';
export { admitLogins, oidcAuthenticate, samlAuthenticate, type SsoRouteOptions } from './authenticate.js';
export { requireActiveUser, useJitSession } from './session.js';
export { roleNames } from '@jit-sso/core';
export { createJwtSession, type JwtSessionOptions } from './jwt.js';
export { jitErrorHandler, type JitErrorHandlerOptions } from './error-handler.js';
export {
  fromPassportOpenIdConnect,
  LoginAdmission,
  MemoryReplayCache,
  passportOpenIdConnectVerify,
  PostgresReplayCache,
  RedisReplayCache,
  recordProtocolDenial,
  SamlValidationPool,
  type LoginAdmissionOptions,
  type ReplayCache,
  type SamlValidationPoolOptions,
} from '@jit-sso/protocol';
export { scimRouter } from './scim.js';
export { adminRouter, type AdminRouterOptions } from './admin.js';
export type { JitUser } from './user.js';
