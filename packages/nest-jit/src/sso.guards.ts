import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import {
  createSignInFlow,
  type LoginAdmission,
  type PassportStrategyLike,
  type SignInProtocol,
} from '@jit-sso/protocol';
import { JitService } from './jit.service.js';
import { JitSamlStrategy } from './saml.strategy.js';
import { JitOidcStrategy } from './oidc.strategy.js';

interface SsoRequest {
  method?: string;
  params?: unknown;
  body?: unknown;
  user?: unknown;
  logIn(user: unknown, done: (error?: unknown) => void): void;
}

interface SsoResponse {
  cookie(name: string, value: string, options: object): void;
  redirect(status: number, location: string): void;
}

/**
 * Starts a sign-in (redirect to the IdP) or completes one (validates the IdP's answer, provisions,
 * and signs the person in with a new session). Refusals are thrown as `JitError`s and written to
 * the audit; `JitExceptionFilter` answers them.
 */
abstract class SignInGuard implements CanActivate {
  private readonly signIn: ReturnType<typeof createSignInFlow<SsoRequest>>;
  private readonly admission: LoginAdmission | undefined;

  constructor(protocol: SignInProtocol, jit: JitService, strategy: PassportStrategyLike) {
    // Only SAML responses (the ACS POST) wait for a turn; starting a login is a redirect.
    this.admission = protocol === 'saml' ? jit.options.loginAdmission : undefined;
    this.signIn = createSignInFlow<SsoRequest>({
      protocol,
      provisioner: jit,
      connectionParam: jit.options.connectionParam,
      strategy: () => strategy,
    });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<SsoRequest>();
    const response = http.getResponse<SsoResponse>();
    if (this.admission && request.method === 'POST') {
      const admitted = await this.admission.admit(
        request as unknown as IncomingMessage,
        response as unknown as ServerResponse,
      );
      // The client left while waiting: nothing to answer, and the route's handler must not run.
      if (!admitted) return new Promise<boolean>(() => {});
    }
    const outcome = await this.signIn(request);
    for (const { name, value, maxAgeMs, ...attributes } of outcome.cookies)
      response.cookie(name, value, { ...attributes, maxAge: maxAgeMs });
    if (outcome.kind === 'refused') throw outcome.error;
    if (outcome.kind === 'redirect') {
      response.redirect(outcome.status, outcome.location);
      // The redirect is the answer: the route's handler must not write another (as with passport's guard).
      return new Promise<boolean>(() => {});
    }
    if (outcome.kind === 'tested') {
      // A test sign-in: the decision for the route to show; nobody is signed in.
      (request as SsoRequest & { jitTestResult?: unknown }).jitTestResult = outcome.result;
      return true;
    }
    request.user = outcome.user;
    await new Promise<void>((resolve, reject) =>
      request.logIn(outcome.user, (error) => (error ? reject(error) : resolve())),
    );
    return true;
  }
}

/** `GET /auth/saml/:connection/login` and `POST /auth/saml/:connection/acs`. */
@Injectable()
export class SamlAuthGuard extends SignInGuard {
  constructor(@Inject(JitService) jit: JitService, @Inject(JitSamlStrategy) strategy: JitSamlStrategy) {
    // The strategy's public type is its `metadata()`; to the flow it is the passport strategy it is.
    super('saml', jit, strategy as unknown as PassportStrategyLike);
  }
}

/** `GET /auth/oidc/:connection/login` and `GET /auth/oidc/:connection/callback`. */
@Injectable()
export class OidcAuthGuard extends SignInGuard {
  constructor(@Inject(JitService) jit: JitService, @Inject(JitOidcStrategy) strategy: JitOidcStrategy) {
    super('oidc', jit, strategy);
  }
}
