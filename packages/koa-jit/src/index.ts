export { jitErrors, jitErrorBody, type JitErrorsOptions } from './errors.js';
export {
  jitSession,
  requireUser,
  useJitSerializer,
  type ActiveUserSource,
  type JitState,
  type PassportSerializers,
  type SessionUser,
} from './session.js';
