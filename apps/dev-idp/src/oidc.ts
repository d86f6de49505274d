import { randomBytes } from 'node:crypto';
import express, { type Router } from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, {
  interactionPolicy,
  type AccountClaims,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { displayName, type PeopleDirectory, type TestPerson } from './people.js';
import { html, page } from './html.js';
import { pickerPage, refusalPage } from './picker.js';

export interface OidcClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Where the app's logout may send the browser back to. */
  postLogoutRedirectUris?: string[];
}

export interface OidcIdp {
  readonly issuer: string;
  readonly provider: Provider;
  /** Mount at the issuer's path: the interaction routes, then the provider. */
  readonly router: Router;
}

/** The claims the ID token carries for a person (with `conformIdTokenClaims: false`, all of them). */
export function claimsOf(person: TestPerson): AccountClaims {
  return {
    sub: person.id,
    email: person.email,
    email_verified: person.emailVerified,
    name: displayName(person),
    given_name: person.givenName,
    family_name: person.familyName,
    groups: [...person.groups],
  };
}

const SCOPE = 'openid email profile groups';

export async function createOidcIdp(options: {
  issuer: string;
  people: PeopleDirectory;
  clients: readonly OidcClient[];
}): Promise<OidcIdp> {
  const { issuer, people } = options;
  const mountPath = new URL(issuer).pathname.replace(/\/$/, '');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'dev-idp-1' };

  // Ask who you are at every authorization request, so that switching person needs no logout.
  const policy = interactionPolicy.base();
  policy
    .get('login')!
    .checks.add(
      new interactionPolicy.Check('pick_person', 'Choose the person to sign in as', (ctx) =>
        ctx.oidc.result?.['login']
          ? interactionPolicy.Check.NO_NEED_TO_PROMPT
          : interactionPolicy.Check.REQUEST_PROMPT,
      ),
    );

  const configuration: Configuration = {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
      groups: ['groups'],
    },
    scopes: SCOPE.split(' '),
    conformIdTokenClaims: false,
    ttl: {
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
      AccessToken: 600,
      IdToken: 600,
      AuthorizationCode: 60,
    },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    interactions: { policy, url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    async findAccount(_ctx: KoaContextWithOIDC, id: string) {
      const person = people.get(id);
      if (!person) return undefined;
      return {
        accountId: person.id,
        // Read at token time, so a group change at the admin page shows at the next sign-in.
        claims: () => claimsOf(people.get(id) ?? person),
      };
    },
    // The sample app is first-party: no consent screen.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const clientId = ctx.oidc.client!.clientId;
      const accountId = ctx.oidc.session!.accountId!;
      const existing = ctx.oidc.session!.grantIdFor(clientId);
      if (existing) {
        const grant = await ctx.oidc.provider.Grant.find(existing);
        if (grant) return grant;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId });
      grant.addOIDCScope(SCOPE);
      await grant.save();
      return grant;
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page(
        'Error',
        html`<div class="card">
          <h1 class="bad">Sign-in error</h1>
          <p><code>${out.error}</code> ${out.error_description ?? ''}</p>
        </div>`,
      );
    },
  };

  const provider = new Provider(issuer, configuration);
  const router = express.Router();
  router.use('/interaction/:uid', express.urlencoded({ extended: false }));

  router.get('/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      const client = await provider.Client.find(String(details.params['client_id']));
      res.type('html').send(
        pickerPage({
          protocol: 'OIDC',
          app: client?.clientId ?? 'the application',
          action: `${mountPath}/interaction/${details.uid}/login`,
          hidden: {},
          people: people.list(),
        }),
      );
    } catch (error) {
      next(error);
    }
  });

  router.post('/interaction/:uid/login', async (req, res, next) => {
    try {
      await provider.interactionDetails(req, res);
      const person = people.get(String(req.body?.person ?? ''));
      if (!person || !person.active) {
        res.status(403).type('html').send(refusalPage(person));
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: person.id } },
        { mergeWithLastSubmission: false },
      );
    } catch (error) {
      next(error);
    }
  });

  router.use(provider.callback());
  return { issuer, provider, router };
}
