import type { SamlConfig } from '@node-saml/node-saml';
import type { CheckedAssertion, SamlExpectations } from './saml-checks.js';

/** The worker's result of `checkSamlAssertion`, kept with the profile for the verify step. */
export type Precheck = { checked: CheckedAssertion } | { error: Error };
const prechecks = new WeakMap<object, Precheck>();

export function keepPrecheck(profile: object, precheck: Precheck): void {
  prechecks.set(profile, precheck);
}

/**
 * The result of `checkSamlAssertion` made by the worker that validated this profile, if any: the
 * verify step uses it instead of parsing the assertion again on the main thread.
 */
export function precheckedAssertion(profile: object): CheckedAssertion | undefined {
  const precheck = prechecks.get(profile);
  if (!precheck) return undefined;
  if ('error' in precheck) throw precheck.error;
  return precheck.checked;
}

// What the checks expect of each set of node-saml options `samlOptionsFor` made.
const expectations = new WeakMap<object, SamlExpectations>();
// The key naming each set of options `samlOptionsFor` made from a connection's kept settings.
const configKeys = new WeakMap<object, string>();

export function rememberExpectations(config: SamlConfig, expect: SamlExpectations, configKey?: string): void {
  expectations.set(config, expect);
  if (configKey !== undefined) configKeys.set(config, configKey);
}

/**
 * A key that names these node-saml options (without `cacheProvider`) for as long as the process
 * runs: options with the same key are the same. A validation thread keeps the options it was sent
 * under their key. Undefined for options `samlOptionsFor` did not make from kept settings.
 */
export function configKeyOf(config: SamlConfig): string | undefined {
  return configKeys.get(config);
}

export function expectationsOf(config: SamlConfig): SamlExpectations | undefined {
  return expectations.get(config);
}
