// The sign-in tracer lives in @jit-sso/core, where the stores that keep it can reach it.
export {
  defaultRedaction,
  MemorySignInTracer,
  redactAttributes,
  type Redaction,
  type SignInTracer,
  type SignInTracerOptions,
  type TracedAttempt,
} from '@jit-sso/core';
