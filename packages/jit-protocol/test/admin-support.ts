import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import dns2 from 'dns2';
import { SignedXml } from 'xml-crypto';
import type { AdminCaller, AdminService } from '../src/index.js';

export const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

/** The administrators of two tenants: A owns the objects, B reaches for them. */
export const A: AdminCaller = { actor: 'ann@acme.test', tenantId: 'acme' };
export const B: AdminCaller = { actor: 'bob@globex.test', tenantId: 'globex' };

/** Every method that names an object of tenant A (`acme-saml`, `acme.example`), called by B. */
export const foreignCalls: Array<[string, (service: AdminService) => Promise<unknown>]> = [
  ['getConnection', (s) => s.getConnection(B, 'acme-saml')],
  [
    'updateConnection',
    (s) => s.updateConnection(B, 'acme-saml', { expectedVersion: 1, jit: { mode: 'off' } }),
  ],
  [
    'rolloverCertificate',
    (s) => s.rolloverCertificate(B, 'acme-saml', { expectedVersion: 1, certificate: fixture('next.pem') }),
  ],
  ['deleteConnection', (s) => s.deleteConnection(B, 'acme-saml')],
  ['serviceProviderMetadata', (s) => s.serviceProviderMetadata(B, 'acme-saml')],
  ['previewMapping', (s) => s.previewMapping(B, 'acme-saml')],
  ['recentAttempts', (s) => s.recentAttempts(B, 'acme-saml')],
  ['verifyDomain', (s) => s.verifyDomain(B, 'acme.example')],
  ['releaseDomain', (s) => s.releaseDomain(B, 'acme.example')],
];

/** Every route of the admin API that names a webhook endpoint (and its delivery `e1`). */
export const endpointRoutes = (endpointId: string) =>
  [
    ['POST', `/webhooks/${endpointId}/rotate`],
    ['POST', `/webhooks/${endpointId}/pause`],
    ['POST', `/webhooks/${endpointId}/resume`],
    ['GET', `/webhooks/failures?endpointId=${endpointId}`],
    ['POST', `/webhooks/${endpointId}/deliveries/e1/redeliver`],
  ] as const;

export function certBody(name: string): string {
  return fixture(name)
    .replace(/-----[A-Z ]+-----/g, '')
    .replace(/\s+/g, '');
}

/** IdP metadata with the given signing certificates (fixture names). */
export function idpMetadata(
  entityId: string,
  certs: string[] = ['current.pem'],
  sso = 'https://idp.acme.test/sso',
): string {
  const keys = certs
    .map(
      (c) => `
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certBody(c)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="_metadata" entityID="${entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${sso}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

/** Signs metadata (enveloped, RSA-SHA256) with the fixture signing key. */
export function signMetadata(xml: string): string {
  const signer = new SignedXml({
    privateKey: fixture('metadata-signing-key.pem'),
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  signer.addReference({
    xpath: '/*',
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  signer.computeSignature(xml, { location: { reference: '/*', action: 'prepend' } });
  return signer.getSignedXml();
}

/** A local HTTP server answering fixed bodies by path. */
export async function serve(
  routes: Record<string, { status?: number; type?: string; body: string | ((base: string) => string) }>,
): Promise<{ base: string; close(): Promise<void> }> {
  let base = '';
  const server: Server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = typeof route.body === 'function' ? route.body(base) : route.body;
    res.writeHead(route.status ?? 200, { 'content-type': route.type ?? 'application/xml' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * A DNS server on 127.0.0.1 (dns2) answering TXT questions from `records`, which a test edits, and a
 * `node:dns/promises` resolver pointed at it.
 */
export async function localDns(): Promise<{
  records: Map<string, string[]>;
  resolver: Resolver;
  close(): Promise<void>;
}> {
  const records = new Map<string, string[]>();
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const values = question ? records.get(question.name.toLowerCase()) : undefined;
      if (question && values) {
        for (const data of values) {
          response.answers.push({
            name: question.name,
            type: Packet.TYPE.TXT,
            class: Packet.CLASS.IN,
            ttl: 1,
            data,
          } as unknown as (typeof response.answers)[number]);
        }
      } else if (question) {
        // NXDOMAIN
        (response.header as { rcode: number }).rcode = 3;
      }
      send(response);
    },
  });
  const bound = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const port = (bound as { udp: AddressInfo }).udp.port;
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return { records, resolver, close: () => server.close() };
}
