import { Strategy as PassportBaseStrategy } from 'passport';
import type { Connection } from '@jit-sso/core';
import { createOidcStrategy, type JitOidcStrategy } from '@jit-sso/protocol';

export interface MultiOidcStrategyOptions {
  /** The connection of this request (from the route), validated by the engine. */
  connectionOf(request: unknown): Promise<Connection>;
}

type Verify = (
  request: unknown,
  tokens: unknown,
  done: (error: unknown, user?: unknown, info?: unknown) => void,
) => void;

/**
 * One passport strategy for every OIDC connection: at each request it hands over to the
 * connection's `openid-client` strategy (PKCE, `state` and `nonce`, the ID token's signature checked
 * against the issuer's JWKS), built on first use from the issuer's discovery document. The verify
 * callback is this strategy's, so a Nest `validate()` sees every connection's logins.
 */
export class MultiOidcStrategy extends PassportBaseStrategy {
  private readonly strategies = new Map<string, Promise<JitOidcStrategy>>();

  constructor(
    private readonly multi: MultiOidcStrategyOptions,
    private readonly verify: Verify,
  ) {
    super();
  }

  override authenticate(request: unknown, options?: object): void {
    this.multi
      .connectionOf(request)
      .then((connection) => this.strategyFor(connection))
      .then(
        (strategy) => {
          // Passport gave this instance its success/fail/redirect/error actions; the delegate uses them.
          const self = this as unknown as Record<string, unknown>;
          const delegate = Object.create(strategy) as Record<string, unknown>;
          for (const action of ['success', 'fail', 'redirect', 'pass', 'error'])
            delegate[action] = self[action];
          const authenticate = delegate['authenticate'] as (request: unknown, options: object) => void;
          authenticate.call(delegate, request, options ?? {});
        },
        (error: unknown) => this.error(error as Error),
      );
  }

  private strategyFor(connection: Connection): Promise<JitOidcStrategy> {
    let found = this.strategies.get(connection.id);
    if (!found) {
      found = this.build(connection);
      this.strategies.set(connection.id, found);
      // A failed discovery is retried at the next sign-in.
      found.catch(() => this.strategies.delete(connection.id));
    }
    return found;
  }

  private build(connection: Connection): Promise<JitOidcStrategy> {
    return createOidcStrategy(connection, (request, tokens, done) =>
      this.verify(request, tokens, done as never),
    );
  }
}
