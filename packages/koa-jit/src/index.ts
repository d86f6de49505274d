export { jitErrorHandler, jitErrorBody, type JitErrorHandlerOptions } from './errors.js';
export {
  requireActiveUser,
  roleNames,
  useJitSession,
  type ActiveUserSource,
  type JitState,
  type PassportSerializers,
} from './session.js';
