import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AdminError, type AdminErrorCode } from './errors.js';

/** How the admin service fetches IdP documents (metadata, discovery): the app may replace each part. */
export interface DocumentFetchOptions {
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Default 1 MiB; a larger document is refused. */
  maxBytes?: number;
  /**
   * Allow URLs whose host is or resolves to a loopback, private or link-local address (a local
   * development IdP). Default false: an administrator must not make the server fetch internal services.
   */
  allowPrivateNetworks?: boolean;
  /** Host name to addresses; default `dns.promises.lookup`. */
  lookup?: (host: string) => Promise<readonly string[]>;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_BYTES = 1024 * 1024;

/** Loopback, private (RFC 1918, ULA), link-local, unspecified, CGNAT and multicast addresses. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  if (isIP(address) === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  const v6 = address.toLowerCase();
  return v6 === '::' || v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || /^ff/.test(v6);
}

async function defaultLookup(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}

/**
 * Fetches a document an administrator named by URL: http(s) only, bounded in time and size, and
 * (unless allowed) never from a private address. Failures are `unreachable` (the URL did not
 * answer with a document) with the cause kept for the log.
 */
export async function fetchDocument(
  url: string,
  options: DocumentFetchOptions,
  unreachable: AdminErrorCode,
  what: string,
): Promise<string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AdminError('INVALID_INPUT', `The ${what} URL "${url}" is not an absolute URL.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new AdminError('INVALID_INPUT', `The ${what} URL must be http or https.`);
  }
  if (!options.allowPrivateNetworks) {
    if (parsed.protocol !== 'https:') {
      throw new AdminError('INVALID_INPUT', `The ${what} URL must use https.`);
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    let addresses: readonly string[];
    try {
      addresses = isIP(host) ? [host] : await (options.lookup ?? defaultLookup)(host);
    } catch (error) {
      throw new AdminError(unreachable, `The ${what} host "${host}" could not be resolved.`, {
        cause: error,
      });
    }
    if (addresses.some(isPrivateAddress)) {
      throw new AdminError('INVALID_INPUT', `The ${what} URL points to a private network address.`, {
        details: { host },
      });
    }
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(parsed, {
      redirect: options.allowPrivateNetworks ? 'follow' : 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      headers: { accept: 'application/samlmetadata+xml, application/xml, application/json, text/xml' },
    });
  } catch (error) {
    throw new AdminError(unreachable, `The ${what} URL did not answer.`, { cause: error, details: { url } });
  }
  if (!response.ok) {
    throw new AdminError(unreachable, `The ${what} URL answered ${response.status}.`, {
      details: { url, status: response.status },
    });
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    throw new AdminError(unreachable, `The ${what} is larger than ${maxBytes} bytes.`, { details: { url } });
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += (chunk as Uint8Array).byteLength;
      if (size > maxBytes) {
        throw new AdminError(unreachable, `The ${what} is larger than ${maxBytes} bytes.`, {
          details: { url },
        });
      }
      chunks.push(chunk as Uint8Array);
    }
  } catch (error) {
    if (error instanceof AdminError) throw error;
    throw new AdminError(unreachable, `The ${what} could not be read.`, { cause: error, details: { url } });
  }
  return Buffer.concat(chunks).toString('utf8');
}
