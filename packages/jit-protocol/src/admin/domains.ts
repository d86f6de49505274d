import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { domainToASCII } from 'node:url';
import { isPublicSuffix } from '@jit-sso/core';
import { AdminError } from './errors.js';

/** The DNS lookups the domain check needs; default `node:dns/promises`' resolver (the app may replace it). */
export interface TxtResolver {
  resolveTxt(name: string): Promise<string[][]>;
}

/** Where a tenant publishes the challenge: a TXT record at `_jit-sso-challenge.<domain>`. */
export const CHALLENGE_LABEL = '_jit-sso-challenge';
/** The TXT record's value is this prefix followed by the challenge. */
export const CHALLENGE_PREFIX = 'jit-sso-domain-verification=';

export interface DnsChallenge {
  readonly name: string;
  readonly type: 'TXT';
  readonly value: string;
}

export function challengeRecord(domain: string, challenge: string): DnsChallenge {
  return { name: `${CHALLENGE_LABEL}.${domain}`, type: 'TXT', value: `${CHALLENGE_PREFIX}${challenge}` };
}

export function newChallenge(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * A domain as claims store it: lower case, ASCII (punycode), without a trailing dot. Refuses what is
 * not a registrable host name, wildcards, and public suffixes (`co.uk`, `github.io`).
 */
export function normaliseClaimedDomain(input: unknown): string {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new AdminError('DOMAIN_INVALID', 'Name the domain to claim, such as acme.com.');
  }
  const raw = input.trim().toLowerCase().replace(/\.$/, '');
  const ascii = domainToASCII(raw);
  if (
    !ascii ||
    ascii.length > 253 ||
    !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(ascii)
  ) {
    throw new AdminError('DOMAIN_INVALID', `"${input}" is not a domain name such as acme.com.`, {
      details: { domain: input },
    });
  }
  if (isPublicSuffix(ascii)) {
    throw new AdminError(
      'DOMAIN_PUBLIC_SUFFIX',
      `"${ascii}" is a public suffix, under which anyone can register a domain.`,
      { details: { domain: ascii } },
    );
  }
  return ascii;
}

/** Whether the domain's TXT records carry the challenge. DNS failures other than "no record" are `DNS_UNAVAILABLE`. */
export async function challengePublished(
  resolver: TxtResolver,
  domain: string,
  challenge: string,
): Promise<{ found: boolean; seen: string[] }> {
  const record = challengeRecord(domain, challenge);
  let records: string[][];
  try {
    records = await resolver.resolveTxt(record.name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'NXDOMAIN') return { found: false, seen: [] };
    throw new AdminError('DNS_UNAVAILABLE', `The DNS lookup of ${record.name} failed (${code ?? 'error'}).`, {
      cause: error,
      hint: 'Try again in a minute; if it persists, check that the domain has working name servers.',
    });
  }
  // A TXT record longer than 255 bytes arrives in chunks, joined here.
  const seen = records.map((chunks) => chunks.join(''));
  return { found: seen.includes(record.value), seen };
}

export function defaultResolver(): TxtResolver {
  return new Resolver({ timeout: 3000, tries: 2 });
}
