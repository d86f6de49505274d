export { defaultSamlKeys, startDevIdp, type DevIdp, type DevIdpOptions } from './server.js';
export {
  DEFAULT_PEOPLE,
  PeopleDirectory,
  type PersonChange,
  type PersonInput,
  type TestPerson,
} from './people.js';
export { claimsOf, type OidcClient } from './oidc.js';
export { readAuthnRequest, type SamlServiceProvider } from './saml.js';
