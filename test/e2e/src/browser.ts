/**
 * A minimal browser for driving logins over HTTP: a cookie jar per origin, no automatic redirects
 * (each hop is visible to the test), and helpers for the auto-posting forms IdPs return.
 */
export interface BrowserResponse {
  status: number;
  location: string | null;
  body: string;
  json<T = unknown>(): T;
}

export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  private cookieHeader(url: URL): string | undefined {
    const cookies = this.jar.get(url.origin);
    if (!cookies || cookies.size === 0) return undefined;
    return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      const cookies = this.jar.get(url.origin) ?? new Map<string, string>();
      const expired = attributes.some(
        (a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a),
      );
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
      this.jar.set(url.origin, cookies);
    }
  }

  async request(
    method: 'GET' | 'POST',
    target: string,
    options: { form?: Record<string, string>; json?: boolean; headers?: Record<string, string> } = {},
  ): Promise<BrowserResponse> {
    const url = new URL(target);
    const headers: Record<string, string> = {
      accept: options.json ? 'application/json' : 'text/html,application/xhtml+xml',
      ...options.headers,
    };
    const cookie = this.cookieHeader(url);
    if (cookie) headers['cookie'] = cookie;
    let body: string | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    const response = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.store(url, response.headers);
    const text = await response.text();
    const location = response.headers.get('location');
    return {
      status: response.status,
      location: location ? new URL(location, url).href : null,
      body: text,
      json: <T>() => JSON.parse(text) as T,
    };
  }

  get(url: string, options: { json?: boolean; headers?: Record<string, string> } = {}) {
    return this.request('GET', url, options);
  }

  post(url: string, form: Record<string, string>, options: { json?: boolean } = {}) {
    return this.request('POST', url, { ...options, form });
  }

  /** Follows redirects (GET) until a non-redirect answer or a URL that `stop` accepts. */
  async follow(
    response: BrowserResponse,
    stop?: (url: string) => boolean,
    json = false,
  ): Promise<BrowserResponse> {
    let current = response;
    for (let hops = 0; current.location && current.status >= 300 && current.status < 400; hops++) {
      if (hops > 20) throw new Error('too many redirects');
      if (stop?.(current.location)) return current;
      current = await this.get(current.location, { json });
    }
    return current;
  }

  cookiesOf(origin: string): Map<string, string> {
    return new Map(this.jar.get(new URL(origin).origin) ?? []);
  }
}

/** The action and fields of the first form in an HTML page. */
export function readForm(html: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"/i.exec(html);
  if (!form) throw new Error(`no form in page: ${html.slice(0, 200)}`);
  const fields: Record<string, string> = {};
  for (const input of html.matchAll(/<input[^>]*>/gi)) {
    const name = /name="([^"]*)"/i.exec(input[0])?.[1];
    const value = /value="([^"]*)"/i.exec(input[0])?.[1] ?? '';
    if (name) fields[decode(name)] = decode(value);
  }
  return { action: decode(form[1]!), fields };
}

function decode(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x2F;/g, '/')
    .replace(/&amp;/g, '&');
}
