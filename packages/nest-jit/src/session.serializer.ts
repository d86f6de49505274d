import { Inject, Injectable } from '@nestjs/common';
import { PassportSerializer } from '@nestjs/passport';
import type { UserRecord } from '@jit-sso/core';
import { JitService } from './jit.service.js';
import { markFresh } from './session.js';

/**
 * Passport session support: the session holds the user id only, and each request re-loads the user
 * with `getActiveUser`. A deactivated or deleted user is dropped from the session by
 * `passport.session()`, so their live sessions end at their next request.
 */
@Injectable()
export class JitSessionSerializer extends PassportSerializer {
  constructor(@Inject(JitService) private readonly jit: JitService) {
    super();
  }

  serializeUser(user: UserRecord, done: (error: unknown, id?: string) => void): void {
    const id = (user as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return done(new Error('A signed-in user must have a string id.'));
    done(null, id);
  }

  deserializeUser(id: unknown, done: (error: unknown, user?: UserRecord | false) => void): void {
    if (typeof id !== 'string') return done(null, false);
    this.jit.getActiveUser(id).then(
      (user) => done(null, user ? markFresh(user) : false),
      (error: unknown) => done(error),
    );
  }
}
