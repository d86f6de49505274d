import {
  detectOidcPreset,
  detectSamlPreset,
  discoveryUrlOf,
  isAdminError,
  isSamlMetadataSigned as isSigned,
  parseOidcDiscovery as parseDiscovery,
  parseSamlMetadata as parseMetadata,
  readCertificate,
  verifySamlMetadataSignature as verifySignature,
  type OidcDiscovery,
  type SamlIdpMetadata,
  type SigningCertificate,
} from '@jit-sso/protocol';
import { CliError, type CliErrorCode } from './errors.js';

// Metadata and discovery documents are read by @jit-sso/protocol (the admin service reads them
// too); the command reports their refusals under the same codes.

export { detectOidcPreset, detectSamlPreset, discoveryUrlOf, readCertificate };
export type { OidcDiscovery, SamlIdpMetadata, SigningCertificate };

function asCliError<A extends unknown[], R>(read: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return read(...args);
    } catch (error) {
      if (!isAdminError(error)) throw error;
      throw new CliError(error.code as CliErrorCode, error.message, {
        ...(error.hint ? { hint: error.hint } : {}),
        details: { ...error.details },
      });
    }
  };
}

export const isSamlMetadataSigned = asCliError(isSigned);
export const verifySamlMetadataSignature = asCliError(verifySignature);
export const parseSamlMetadata = asCliError(parseMetadata);
export const parseOidcDiscovery = asCliError(parseDiscovery);
