import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JitError } from '@jit-sso/core';
import { JitService } from './jit.service.js';
import { endSession, isFresh, markFresh, type SessionRequest } from './session.js';

const ALLOW_ANONYMOUS = 'jit-sso:allow-anonymous';

/**
 * Marks a route or controller that `JitSessionGuard` lets through without a session, for apps that
 * register the guard globally (`APP_GUARD`): the sign-in routes, health checks, public pages.
 */
export const AllowAnonymous = (): MethodDecorator & ClassDecorator => SetMetadata(ALLOW_ANONYMOUS, true);

/**
 * Admits only a signed-in user who is still active, and puts the current `UserRecord` on
 * `request.user`. A user deactivated by SCIM or an administrator loses access at the next request:
 * the guard throws `SESSION_ENDED` (401) and ends the session.
 */
@Injectable()
export class JitSessionGuard implements CanActivate {
  constructor(
    @Inject(JitService) private readonly jit: JitService,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const anonymous = this.reflector.getAllAndOverride<boolean | undefined>(ALLOW_ANONYMOUS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (anonymous) return true;
    const request = context.switchToHttp().getRequest<SessionRequest>();
    const current = request.user;
    if (isFresh(current)) return true;
    const id = typeof current?.id === 'string' ? current.id : null;
    if (!id) return ended(request, 'You are not signed in, or your session has ended.');
    const user = await this.jit.getActiveUser(id);
    if (!user) return ended(request, 'Your session has ended because the account is no longer active.');
    request.user = markFresh(user);
    return true;
  }
}

async function ended(request: SessionRequest, message: string): Promise<never> {
  await endSession(request);
  throw new JitError('SESSION_ENDED', message);
}
