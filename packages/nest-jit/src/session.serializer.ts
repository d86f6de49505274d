import { Injectable } from '@nestjs/common';
import { PassportSerializer } from '@nestjs/passport';
import type { UserRecord } from '@jit-sso/core';
import type { SessionUser } from './session.js';

/**
 * Keeps only the user id in the session. The user is read again, and refused when deactivated, by
 * `JitSessionGuard` on each request, so a deactivation takes effect at the next request.
 */
@Injectable()
export class JitSessionSerializer extends PassportSerializer {
  serializeUser(user: UserRecord | SessionUser, done: (error: unknown, id?: string) => void): void {
    if (!user || typeof user.id !== 'string') {
      done(new Error('Only a provisioned jit-sso user can be stored in the session.'));
      return;
    }
    done(null, user.id);
  }

  deserializeUser(id: unknown, done: (error: unknown, user?: SessionUser | false) => void): void {
    done(null, typeof id === 'string' && id !== '' ? { id } : false);
  }
}
