import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider, { type Configuration } from 'oidc-provider';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { freePort } from './ports.js';

export interface OidcAccount {
  email?: string;
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
  name?: string;
  groups?: string[];
  tid?: string;
}

export interface OidcClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

/** Rewrites the ID token of the next token response (to build the attacks). */
export type IdTokenTamper = (idToken: string) => string | Promise<string>;

/**
 * `oidc-provider` on 127.0.0.1 with its development interactions (login form, consent form), test
 * accounts whose claims the test sets, and a hook to rewrite the next ID token it issues.
 */
export class TestOidcProvider {
  issuer = '';
  readonly accounts = new Map<string, OidcAccount>();
  private server: Server | null = null;
  private tamper: IdTokenTamper | null = null;
  /** The provider's signing key (private JWK) so that tests can re-sign altered tokens. */
  signingKey!: { privateKey: CryptoKey; publicJwk: JWK; kid: string };

  async start(clients: OidcClient[]): Promise<void> {
    const port = await freePort();
    this.issuer = `http://127.0.0.1:${port}`;
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = 'test-key-1';
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
    this.signingKey = {
      privateKey: privateKey as CryptoKey,
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
      kid,
    };
    const configuration: Configuration = {
      clients: clients.map((c) => ({
        ...c,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      })),
      jwks: { keys: [privateJwk as never] },
      cookies: { keys: [randomBytes(32).toString('hex')] },
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name', 'given_name', 'family_name'],
        groups: ['groups'],
        tenant: ['tid'],
      },
      scopes: ['openid', 'email', 'profile', 'groups', 'tenant'],
      conformIdTokenClaims: false,
      ttl: {
        Interaction: 600,
        Session: 3600,
        Grant: 3600,
        AccessToken: 600,
        IdToken: 600,
        AuthorizationCode: 60,
      },
      pkce: { required: () => true },
      features: { devInteractions: { enabled: true } },
      findAccount: async (_ctx, sub) => {
        const account = this.accounts.get(sub);
        if (!account) return undefined;
        return { accountId: sub, claims: async () => ({ sub, ...account }) };
      },
    };
    const provider = new Provider(this.issuer, configuration);
    provider.use(async (ctx, next) => {
      await next();
      const body = ctx.body as { id_token?: string } | undefined;
      if (ctx.path === '/token' && this.tamper && body?.id_token) {
        const tamper = this.tamper;
        this.tamper = null;
        ctx.body = { ...body, id_token: await tamper(body.id_token) };
      }
    });
    this.server = createServer(provider.callback());
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
  }

  /** Rewrites the ID token of the next token response only. */
  tamperNextIdToken(tamper: IdTokenTamper): void {
    this.tamper = tamper;
  }

  async close(): Promise<void> {
    this.tamper = null;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
