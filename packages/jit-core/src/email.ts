import { InvalidAttributeError } from './errors.js';

// A pragmatic address check after normalisation: one "@", a non-empty local part without spaces or
// control characters, and a domain of dot-separated labels with a top-level label. The IdP has already
// accepted the address; this refuses what cannot be an address at all (empty, "a@b", spaces, quotes).
const LOCAL = /^[^\s@"(),:;<>[\\\]\p{Cc}]{1,64}$/u;
const LABEL = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;
/** `LABEL` for a lower-cased ASCII label (nearly every one): the same test without Unicode classes. */
const ASCII_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
// eslint-disable-next-line no-control-regex
const ASCII = /^[\u0000-\u007f]*$/;

/**
 * The one way this library compares emails: trim, Unicode NFKC (full-width letters and the Kelvin
 * sign become ASCII), lower-case. Plus-addressing is kept: `a+b@x` and `a@x` are different people.
 * Returns `null` for anything that is not an address.
 */
export function tryNormaliseEmail(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  // NFKC leaves ASCII as it is: only other text goes through the (costly) normalisation.
  const ascii = ASCII.test(raw);
  const email = (ascii ? raw : raw.normalize('NFKC')).trim().toLowerCase();
  if (email.length > 254) return null;
  const at = email.lastIndexOf('@');
  if (at <= 0 || email.indexOf('@') !== at) return null;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (!LOCAL.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return null;
  const labels = domain.split('.');
  const label = ascii ? ASCII_LABEL : LABEL;
  if (labels.length < 2 || !labels.every((l) => label.test(l))) return null;
  if (/^\d+$/.test(labels[labels.length - 1]!)) return null;
  return email;
}

/** `tryNormaliseEmail`, throwing `INVALID_ATTRIBUTE` for what is not an address. */
export function normaliseEmail(raw: unknown, field = 'email'): string {
  const email = tryNormaliseEmail(raw);
  if (email === null) throw new InvalidAttributeError(field, 'not an email address');
  return email;
}

/** The domain of a normalised email. */
export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

/** Lower-cases and NFKC-normalises a domain, dropping a trailing dot. */
export function normaliseDomain(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase().replace(/\.$/, '');
}

/**
 * Whether `domain` is one of `verified`. An entry matches itself only; `*.acme.com` matches
 * subdomains of acme.com (not acme.com itself, unless that is listed too).
 */
export function isDomainVerified(domain: string, verified: readonly string[]): boolean {
  for (const entry of verified) {
    if (entry.startsWith('*.')) {
      if (domain.endsWith(entry.slice(1)) && domain.length > entry.length - 1) return true;
    } else if (entry === domain) {
      return true;
    }
  }
  return false;
}
