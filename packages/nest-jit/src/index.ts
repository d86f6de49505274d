export { JitModule } from './jit.module.js';
export {
  JIT_MODULE_OPTIONS,
  type JitForRootOptions,
  type JitForRootAsyncOptions,
} from './jit.module-definition.js';
export type { JitModuleOptions, JitProtocolOptions, SharedEngineOptions } from './options.js';
export { JitService } from './jit.service.js';
export { JitExceptionFilter, jitErrorBody } from './jit-exception.filter.js';
export { AllowAnonymous, JitSessionGuard } from './session.guard.js';
export { JitSessionSerializer } from './session.serializer.js';
export { CurrentUser } from './current-user.decorator.js';
export { roleNames } from '@jit-sso/core';
export { LoginAdmission, type LoginAdmissionOptions } from '@jit-sso/protocol';
export { JitSamlStrategy, SAML_STRATEGY } from './saml.strategy.js';
export { JitOidcStrategy, OIDC_STRATEGY } from './oidc.strategy.js';
export { MultiOidcStrategy, type MultiOidcStrategyOptions } from './protocol/multi-oidc.strategy.js';
export { OidcAuthGuard, SamlAuthGuard } from './sso.guards.js';
export {
  JIT_SCIM_OPTIONS,
  JitScimModule,
  type JitScimForRootAsyncOptions,
  type JitScimForRootOptions,
  type JitScimModuleOptions,
} from './scim.module.js';
export {
  JitAdminModule,
  JIT_ADMIN_OPTIONS,
  type JitAdminModuleOptions,
  type JitAdminForRootOptions,
  type JitAdminForRootAsyncOptions,
} from './admin.module.js';
