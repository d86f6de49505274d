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

export function rememberExpectations(config: SamlConfig, expect: SamlExpectations): void {
  expectations.set(config, expect);
}

export function expectationsOf(config: SamlConfig): SamlExpectations | undefined {
  return expectations.get(config);
}
