import { UnknownConnectionError } from '@jit-sso/core';

/** What the strategies read from a request: the route parameters and, on a SAML POST, the form body. */
export interface SsoRequest {
  params?: unknown;
  body?: unknown;
}

/** The connection id from the route parameter; an absent one is an unknown connection. */
export function connectionIdOf(req: SsoRequest, param: string): string {
  const value = (req.params as Record<string, unknown> | undefined)?.[param];
  if (typeof value !== 'string' || value === '') throw new UnknownConnectionError('');
  return value;
}
