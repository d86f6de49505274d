import type { Request } from 'express';
import { UnknownConnectionError } from '@jit-sso/core';

/** The connection id from the route parameter; an absent one is an unknown connection. */
export function connectionIdOf(req: Request, param: string): string {
  const value = (req.params as Record<string, unknown>)[param];
  if (typeof value !== 'string' || value === '') throw new UnknownConnectionError('');
  return value;
}
