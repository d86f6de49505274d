import { ConfigurationError, type ProvisionerOptions } from '@jit-sso/core';

/**
 * What `JitModule.forRoot` / `forRootAsync` take: the engine's options (store, connections, tenants,
 * resolver, event listener). Checked when the module starts, so a wrong connection stops the app at
 * boot instead of failing the first login.
 */
export type JitModuleOptions = ProvisionerOptions;

/** Checks what the engine does not: the shape of the object a factory or options class returned. */
export function checkModuleOptions(options: unknown): asserts options is JitModuleOptions {
  if (!options || typeof options !== 'object') {
    throw new ConfigurationError('JitModule needs an options object with a store and connections.');
  }
  const { store, connections } = options as Partial<JitModuleOptions>;
  if (!store || typeof store.transaction !== 'function' || typeof store.findUserById !== 'function') {
    throw new ConfigurationError(
      'JitModule options.store must implement IdentityStore (MemoryStore, TypeormStore or your own).',
    );
  }
  if (!Array.isArray(connections) && typeof connections !== 'function') {
    throw new ConfigurationError(
      'JitModule options.connections must be a list of connections or a loader function.',
    );
  }
}
