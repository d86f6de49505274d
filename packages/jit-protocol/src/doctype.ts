import { JitError } from '@jit-sso/core';

// A DOCTYPE can declare entities (billion laughs, external entities) and node-saml only fails on
// the ones it cannot expand; SAML never needs one, so any is refused before parsing.
const DOCTYPE = /<!\s*(DOCTYPE|ENTITY)/i;

/** Refuses a SAML message (XML text) that contains a DOCTYPE or an entity declaration. */
export function refuseDoctype(xml: string): void {
  if (DOCTYPE.test(xml)) {
    throw new JitError(
      'SAML_DOCTYPE_FORBIDDEN',
      'The SAML message contains a DOCTYPE, which is not allowed.',
    );
  }
}

/** The same check for a base64 `SAMLResponse`/`SAMLRequest` form field, before node-saml decodes it. */
export function refuseDoctypeInEncoded(encoded: unknown): void {
  if (typeof encoded !== 'string' || encoded === '') return;
  const xml = Buffer.from(encoded, 'base64').toString('utf8');
  refuseDoctype(xml);
  // A UTF-16 document would hide the marker from a UTF-8 reading.
  if (xml.includes('\u0000')) refuseDoctype(Buffer.from(encoded, 'base64').toString('utf16le'));
}
