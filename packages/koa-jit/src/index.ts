export { jitErrorHandler, jitErrorBody, type JitErrorHandlerOptions } from './errors.js';
export {
  requireActiveUser,
  useJitSession,
  type ActiveUserSource,
  type JitState,
  type PassportSerializers,
} from './session.js';
export { roleNames } from '@jit-sso/core';
export { LoginAdmission, type LoginAdmissionOptions } from '@jit-sso/protocol';
export {
  createOidcStrategies,
  createSamlStrategy,
  type KoaPassportRequest,
  type OidcStrategies,
  type OidcStrategiesOptions,
  type SamlStrategy,
  type SamlStrategyOptions,
} from './strategies.js';
export {
  admitLogins,
  connectionIdOf,
  oidcAuthenticate,
  samlAuthenticate,
  samlMetadata,
  type KoaAuthenticator,
  type SsoRouteOptions,
  type SsoState,
} from './authenticate.js';
export {
  oidcVerify,
  samlVerify,
  type KoaOidcVerify,
  type KoaOidcVerifyOptions,
  type KoaSamlVerify,
  type KoaSamlVerifyOptions,
  type VerifyDone,
} from './verify.js';
export { scimMiddleware, type ScimMiddlewareOptions } from './scim.js';
export { adminMiddleware, type AdminMiddlewareOptions } from './admin.js';
