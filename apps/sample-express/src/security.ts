import helmet from 'helmet';
import type { CookieOptions, Express, RequestHandler } from 'express';
import { STYLE_HASH } from './pages.js';

/**
 * The sample's security headers. The pages load nothing from elsewhere and run no script; their one
 * inline stylesheet is allowed by its hash, so the policy needs no `'unsafe-inline'`. No page may be
 * framed (`frame-ancestors 'none'`, `X-Frame-Options: DENY`): the admin page must not be clickjacked.
 * Upgrading requests and HSTS only make sense when the app is served over HTTPS.
 */
export function securityHeaders(publicUrl: string): RequestHandler {
  const https = publicUrl.startsWith('https:');
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'style-src': [`'${STYLE_HASH}'`],
        'img-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
        ...(https ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: https,
  });
}

export const SESSION_COOKIE = 'jit-sample.sid';

/** The session cookie's attributes; clearing it at sign-out needs the same ones. */
export function sessionCookie(publicUrl: string): CookieOptions & { secure: boolean } {
  return { path: '/', httpOnly: true, sameSite: 'lax', secure: publicUrl.startsWith('https:') };
}

/**
 * Behind an `https:` public URL, a TLS-terminating proxy forwards plain HTTP: trust the one proxy in
 * front for `X-Forwarded-Proto`, so that the request counts as secure and the `Secure` session cookie
 * is sent. Served directly over HTTP, no forwarded header is trusted.
 */
export function trustProxyFor(app: Express, publicUrl: string): void {
  if (publicUrl.startsWith('https:')) app.set('trust proxy', 1);
}
