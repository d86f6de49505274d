import type { RequestHandler } from 'express';
import type { PassportRegistry } from '@jit-sso/protocol';

/**
 * The part of a passport `Authenticator` (the default `passport` instance or `new Passport()`) that
 * the adapter uses; structural, so that apps with either typing pass it.
 */
export interface PassportLike extends PassportRegistry {
  authenticate(
    strategy: never,
    options: { session: boolean },
    callback: (error: unknown, user: unknown, info: unknown) => void,
  ): RequestHandler;
  serializeUser(fn: (user: Express.User, done: (error: unknown, id?: unknown) => void) => void): void;
  deserializeUser(
    fn: (id: unknown, done: (error: unknown, user?: Express.User | false | null) => void) => void,
  ): void;
}
