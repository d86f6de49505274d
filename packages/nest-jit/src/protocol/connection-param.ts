import { UnknownConnectionError } from '@jit-sso/core';

/** The connection id from the route parameter; an absent one is an unknown connection. */
export function connectionIdOf(request: unknown, param: string): string {
  const params = (request as { params?: Record<string, unknown> } | null)?.params;
  const value = params?.[param];
  if (typeof value !== 'string' || value === '') throw new UnknownConnectionError('');
  return value;
}
