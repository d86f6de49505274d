import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { adminRouter } from './admin.js';
import { html, page } from './html.js';
import { createOidcIdp, type OidcClient } from './oidc.js';
import { DEFAULT_PEOPLE, PeopleDirectory, type PersonInput } from './people.js';
import { createSamlIdp, type SamlServiceProvider } from './saml.js';

export interface DevIdpOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1 (the admin page has no login: keep it local). */
  host?: string;
  /** The origin the browser and the app use; default `http://localhost:<port>`. */
  publicUrl?: string;
  people?: readonly PersonInput[];
  /** The apps that may sign in with OIDC. */
  oidcClients?: readonly OidcClient[];
  /** The apps that may sign in with SAML. */
  samlServiceProviders?: readonly SamlServiceProvider[];
  /** SAML signing key and certificate (PEM); default the test-only pair in `keys/`. */
  samlKey?: string;
  samlCertificate?: string;
}

export interface DevIdp {
  readonly url: string;
  readonly port: number;
  readonly people: PeopleDirectory;
  readonly oidc: { readonly issuer: string };
  readonly saml: {
    readonly entityId: string;
    readonly ssoUrl: string;
    readonly metadataUrl: string;
    readonly certificate: string;
    /** Registers an app (service provider) at run time, as an IdP administrator would. */
    register(sp: SamlServiceProvider): void;
  };
  close(): Promise<void>;
}

const KEYS = new URL('../keys/', import.meta.url);

/** The test-only SAML signing pair in `keys/` that the dev IdP uses unless given another. */
export function defaultSamlKeys(): { key: string; certificate: string } {
  return {
    key: readFileSync(new URL('saml-idp-key.pem', KEYS), 'utf8'),
    certificate: readFileSync(new URL('saml-idp-cert.pem', KEYS), 'utf8'),
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts the local OIDC and SAML identity providers on one port. */
export async function startDevIdp(options: DevIdpOptions = {}): Promise<DevIdp> {
  const server = createServer();
  const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const url = (options.publicUrl ?? `http://localhost:${port}`).replace(/\/$/, '');
  try {
    const people = new PeopleDirectory(options.people ?? DEFAULT_PEOPLE);
    const oidc = await createOidcIdp({
      issuer: `${url}/oidc`,
      people,
      clients: options.oidcClients ?? [],
    });
    const saml = createSamlIdp({
      baseUrl: url,
      people,
      serviceProviders: options.samlServiceProviders ?? [],
      privateKey: options.samlKey ?? defaultSamlKeys().key,
      certificate: options.samlCertificate ?? defaultSamlKeys().certificate,
    });

    const app = express();
    app.disable('x-powered-by');
    app.get('/', (_req, res) => {
      res.type('html').send(
        page(
          'Home',
          html`<h1>Local identity providers</h1>
            <div class="card">
              <h2>OIDC</h2>
              <p>
                Issuer <code>${oidc.issuer}</code><br />
                Discovery
                <a href="${oidc.issuer}/.well-known/openid-configuration"
                  ><code>${oidc.issuer}/.well-known/openid-configuration</code></a
                >
              </p>
            </div>
            <div class="card">
              <h2>SAML</h2>
              <p>
                Entity id and metadata <a href="${saml.metadataUrl}"><code>${saml.metadataUrl}</code></a
                ><br />
                SSO (HTTP-Redirect) <code>${saml.ssoUrl}</code>
              </p>
            </div>
            <p><a href="/admin">Change people's groups or deactivate them</a></p>`,
        ),
      );
    });
    app.use('/admin', adminRouter(people));
    app.use('/saml', saml.router);
    app.use('/oidc', oidc.router);
    server.on('request', app);

    return {
      url,
      port,
      people,
      oidc: { issuer: oidc.issuer },
      saml: {
        entityId: saml.entityId,
        ssoUrl: saml.ssoUrl,
        metadataUrl: saml.metadataUrl,
        certificate: saml.certificate,
        register: saml.register,
      },
      close: () => close(server),
    };
  } catch (error) {
    await close(server).catch(() => undefined);
    throw error;
  }
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
