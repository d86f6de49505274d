import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { WebhookError } from './errors.js';

/**
 * Where webhooks may go. In `production` an endpoint must be `https:` and every address its host
 * resolves to must be public (not loopback, private, link-local, unique-local, carrier-grade NAT,
 * multicast or reserved): a tenant administrator who registers a URL must not make the server call
 * its own network (SSRF). The check runs at registration and again on each connection, on the
 * address actually connected to, so a name that later resolves elsewhere is refused too.
 */
export type WebhookMode = 'production' | 'development';

/** `dns.lookup` with `{ all: true }`, injectable for tests. */
export type AddressResolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export const systemResolver: AddressResolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/** Whether an IP address is one a production webhook may reach. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

/** The URL, parsed and checked for its shape (not its addresses). */
export function parseWebhookUrl(url: string, mode: WebhookMode): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookError('WEBHOOK_URL_INVALID', 'The webhook URL is not an absolute URL.');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new WebhookError('WEBHOOK_URL_INVALID', `Webhook URLs use https (not ${parsed.protocol}).`);
  }
  if (mode === 'production' && parsed.protocol !== 'https:') {
    throw new WebhookError('WEBHOOK_URL_INVALID', 'In production, webhook URLs use https.');
  }
  if (parsed.username || parsed.password) {
    throw new WebhookError('WEBHOOK_URL_INVALID', 'Webhook URLs may not carry credentials.');
  }
  if (url.length > 2048) throw new WebhookError('WEBHOOK_URL_INVALID', 'The webhook URL is too long.');
  return parsed;
}

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/** Checks the URL's shape and, in production, that its host resolves to public addresses only. */
export async function checkWebhookUrl(
  url: string,
  mode: WebhookMode,
  resolve: AddressResolver = systemResolver,
): Promise<URL> {
  const parsed = parseWebhookUrl(url, mode);
  if (mode !== 'production') return parsed;
  const host = hostOf(parsed);
  let addresses: readonly { address: string }[];
  if (isIP(host)) addresses = [{ address: host }];
  else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw new WebhookError('WEBHOOK_URL_INVALID', `The webhook host "${host}" does not resolve.`, {
        cause: error,
      });
    }
  }
  const refused = addresses.find((a) => !isPublicAddress(a.address));
  if (refused || !addresses.length) {
    throw new WebhookError(
      'WEBHOOK_URL_REFUSED',
      `The webhook host "${host}" resolves to a non-public address (${refused?.address ?? 'none'}).`,
    );
  }
  return parsed;
}

/**
 * A `lookup` for `http.request` that resolves with `resolve` and, in production, fails the
 * connection when the address is not public: the address checked is the one connected to.
 */
export function guardedLookup(mode: WebhookMode, resolve: AddressResolver) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname).then(
      (addresses) => {
        const usable =
          mode === 'production' ? addresses.filter((a) => isPublicAddress(a.address)) : addresses;
        if (mode === 'production' && usable.length !== addresses.length) {
          callback(
            new WebhookError(
              'WEBHOOK_URL_REFUSED',
              `The webhook host "${hostname}" resolves to a non-public address.`,
            ),
            '',
          );
          return;
        }
        if (!usable.length) {
          callback(new Error(`No address for ${hostname}.`), '');
          return;
        }
        if (options.all) callback(null, [...usable]);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (error: Error) => callback(error, ''),
    );
  };
}
