import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { JitError } from '@jit-sso/core';
import { JitService } from './jit.service.js';
import { endSession, sessionUserId, type SessionRequest } from './session.js';

/**
 * Admits a request only when its session belongs to a user who is still active, read from the
 * store on every request: a user deactivated by SCIM or an administrator loses access at the next
 * request, and that session is ended. Puts the current user record on `request.user`.
 */
@Injectable()
export class JitSessionGuard implements CanActivate {
  constructor(@Inject(JitService) private readonly jit: JitService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<SessionRequest>();
    const userId = sessionUserId(request);
    if (!userId) throw new JitError('SESSION_ENDED', 'This request is not signed in.');
    const user = await this.jit.getActiveUser(userId);
    if (!user) {
      await endSession(request);
      throw new JitError(
        'SESSION_ENDED',
        'The session has ended because the account was deactivated or removed.',
      );
    }
    request.user = user;
    return true;
  }
}
