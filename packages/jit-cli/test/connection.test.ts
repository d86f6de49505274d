import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignedXml } from 'xml-crypto';
import { defineConnection, type ConnectionInput } from '@jit-sso/core';
import { detectSamlPreset, parseSamlMetadata } from '../src/index.js';
import { certBody, idpDescriptor, jit, metadata, serve, tempDir } from './helpers.js';

const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const entra = metadata({
  entityId: `https://sts.windows.net/${TID}/`,
  sso: [
    { binding: 'post', location: `https://login.microsoftonline.com/${TID}/saml2/post` },
    { binding: 'redirect', location: `https://login.microsoftonline.com/${TID}/saml2` },
  ],
  // A certificate rollover: the current and the next signing certificate, plus an encryption key.
  certs: [
    { body: certBody('current.pem'), use: 'signing' },
    { body: certBody('next.pem'), use: 'signing' },
    { body: certBody('expired.pem'), use: 'encryption' },
  ],
});
const okta = metadata({
  entityId: 'http://www.okta.com/exk1abcd2EFGH3ijk4x7',
  sso: [{ binding: 'post', location: 'https://acme.okta.com/app/acme_app/exk1abcd2EFGH3ijk4x7/sso/saml' }],
  certs: [{ body: certBody('current.pem') }],
});

let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  dir = tempDir();
  writeFileSync(join(dir.path, 'entra.xml'), entra);
  writeFileSync(join(dir.path, 'okta.xml'), okta);
});
afterAll(() => dir.remove());

const file = (name: string) => join(dir.path, name);

describe('jit connection import --saml-metadata', () => {
  it('reads Entra ID metadata from a file: entity id, redirect SSO URL, both rollover certificates, entra preset', async () => {
    const result = await jit([
      'connection',
      'import',
      '--tenant',
      'acme',
      '--saml-metadata',
      file('entra.xml'),
      '--domain',
      'acme.com',
      '--app-url',
      'https://app.example.com/',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const config = JSON.parse(result.stdout) as { tenants: { id: string }[]; connections: ConnectionInput[] };
    expect(config.tenants).toEqual([{ id: 'acme' }]);
    const [connection] = config.connections;
    expect(connection).toMatchObject({
      id: 'acme-entra',
      tenantId: 'acme',
      protocol: 'saml',
      issuer: `https://sts.windows.net/${TID}/`,
      preset: 'entra',
      jit: { mode: 'create', verifiedDomains: ['acme.com'] },
      protocolOptions: {
        saml: {
          entryPoint: `https://login.microsoftonline.com/${TID}/saml2`,
          spEntityId: 'https://app.example.com/auth/saml/acme-entra/metadata',
          acsUrl: 'https://app.example.com/auth/saml/acme-entra/acs',
          wantAuthnResponseSigned: false,
        },
      },
    });
    const certs = (connection!.protocolOptions!['saml'] as { idpCert: string[] }).idpCert;
    expect(certs).toHaveLength(2);
    expect(certs[0]).toBe(readFileSync(join(import.meta.dirname, 'fixtures', 'current.pem'), 'utf8'));
    expect(certs[1]).toBe(readFileSync(join(import.meta.dirname, 'fixtures', 'next.pem'), 'utf8'));
    expect(() => defineConnection(connection!)).not.toThrow();
    expect(result.stderr).toContain('CN=idp-signing-2027');
  });

  it('fetches metadata from a URL and adds the connection to a config file that then passes check', async () => {
    const server = await serve({ '/okta/metadata': { body: okta } });
    try {
      const config = file('fetched.json');
      const url = `${server.base}/okta/metadata`;
      const first = await jit([
        'connection',
        'import',
        '--tenant',
        'acme',
        '--saml-metadata',
        url,
        '--domain',
        'acme.com',
        '--sp-entity-id',
        'https://app.example.com',
        '--acs-url',
        'https://app.example.com/sso/acme/acs',
        '--config',
        config,
      ]);
      expect(first.code, first.stderr).toBe(0);
      const second = await jit([
        'connection',
        'import',
        '--tenant',
        'globex',
        '--saml-metadata',
        file('entra.xml'),
        '--domain',
        'globex.com',
        '--app-url',
        'https://app.example.com',
        '--config',
        config,
      ]);
      expect(second.code, second.stderr).toBe(0);
      const written = JSON.parse(readFileSync(config, 'utf8'));
      expect(written.tenants).toEqual([{ id: 'acme' }, { id: 'globex' }]);
      expect(written.connections.map((c: ConnectionInput) => [c.id, c.preset])).toEqual([
        ['acme-okta', 'okta'],
        ['globex-entra', 'entra'],
      ]);
      expect(written.connections[0].protocolOptions).toEqual({
        saml: {
          entryPoint: 'https://acme.okta.com/app/acme_app/exk1abcd2EFGH3ijk4x7/sso/saml',
          idpCert: [readFileSync(join(import.meta.dirname, 'fixtures', 'current.pem'), 'utf8')],
          spEntityId: 'https://app.example.com',
          acsUrl: 'https://app.example.com/sso/acme/acs',
        },
      });

      const again = await jit([
        'connection',
        'import',
        '--tenant',
        'acme',
        '--saml-metadata',
        url,
        '--domain',
        'acme.com',
        '--app-url',
        'https://app.example.com',
        '--config',
        config,
      ]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('already has a connection "acme-okta"');
      const replaced = await jit([
        'connection',
        'import',
        '--tenant',
        'acme',
        '--saml-metadata',
        url,
        '--domain',
        'acme.org',
        '--app-url',
        'https://app.example.com',
        '--config',
        config,
        '--replace',
      ]);
      expect(replaced.code, replaced.stderr).toBe(0);
      expect(JSON.parse(readFileSync(config, 'utf8')).connections[0].jit.verifiedDomains).toEqual([
        'acme.org',
      ]);

      const check = await jit(['connection', 'check', config]);
      expect(check.code, check.stdout + check.stderr).toBe(0);
      expect(check.stderr).toContain('valid');
    } finally {
      await server.close();
    }
  });

  it('refuses metadata with a DOCTYPE (entity expansion) and names the reason', async () => {
    const evil = okta
      .replace(
        '<md:EntityDescriptor',
        '<!DOCTYPE md:EntityDescriptor [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<md:EntityDescriptor',
      )
      .replace('exk1abcd2EFGH3ijk4x7"', 'exk1abcd2EFGH3ijk4x7&xxe;"');
    writeFileSync(file('evil.xml'), evil);
    const result = await jit([
      'connection',
      'import',
      '--tenant',
      'acme',
      '--saml-metadata',
      file('evil.xml'),
      '--domain',
      'acme.com',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DOCTYPE');
    expect(result.stdout).toBe('');
  });

  it('asks for --entity-id when an aggregate lists several IdPs, and picks the one named', async () => {
    const aggregate = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">
${idpDescriptor({ entityId: 'https://idp.one.test/saml', sso: [{ binding: 'redirect', location: 'https://idp.one.test/sso' }], certs: [{ body: certBody('current.pem') }] })}
${idpDescriptor({ entityId: 'https://idp.two.test/saml', sso: [{ binding: 'post', location: 'https://idp.two.test/sso' }], certs: [{ body: certBody('next.pem') }] })}
</md:EntitiesDescriptor>`;
    writeFileSync(file('aggregate.xml'), aggregate);
    const ambiguous = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--saml-metadata',
      file('aggregate.xml'),
      '--domain',
      't.test',
    ]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('"https://idp.one.test/saml", "https://idp.two.test/saml"');
    expect(ambiguous.stderr).toContain('--entity-id');
    const chosen = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--saml-metadata',
      file('aggregate.xml'),
      '--domain',
      't.test',
      '--entity-id',
      'https://idp.two.test/saml',
      '--app-url',
      'https://app.test',
    ]);
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(JSON.parse(chosen.stdout).connections[0]).toMatchObject({
      issuer: 'https://idp.two.test/saml',
      preset: 'saml',
      id: 't-saml',
    });
  });

  it('refuses metadata whose signing certificates have all expired, and SP metadata', async () => {
    writeFileSync(
      file('expired.xml'),
      metadata({
        entityId: 'https://old.test/idp',
        sso: [{ binding: 'redirect', location: 'https://old.test/sso' }],
        certs: [{ body: certBody('expired.pem') }],
      }),
    );
    const expired = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--saml-metadata',
      file('expired.xml'),
      '--domain',
      't.test',
    ]);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toContain('Every signing certificate of "https://old.test/idp" has expired');
    writeFileSync(
      file('sp.xml'),
      '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://app.test"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>',
    );
    const sp = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--saml-metadata',
      file('sp.xml'),
      '--domain',
      't.test',
    ]);
    expect(sp.code).toBe(1);
    expect(sp.stderr).toContain('no identity provider');
  });

  it('reports an unreachable or failing URL as a failure (exit 1), and command-line mistakes as usage (exit 2)', async () => {
    const server = await serve({});
    try {
      const missing = await jit([
        'connection',
        'import',
        '--tenant',
        't',
        '--saml-metadata',
        `${server.base}/nope`,
        '--domain',
        't.test',
      ]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('HTTP 404');
    } finally {
      await server.close();
    }
    const huge = await serve({ '/huge': { body: `<x>${'a'.repeat(10_500_000)}</x>` } });
    try {
      const tooBig = await jit([
        'connection',
        'import',
        '--tenant',
        't',
        '--saml-metadata',
        `${huge.base}/huge`,
        '--domain',
        't.test',
      ]);
      expect(tooBig.code).toBe(1);
      expect(tooBig.stderr).toContain('answered more than 10 MB');
    } finally {
      await huge.close();
    }
    const plain = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--saml-metadata',
      'http://idp.example.test/metadata',
      '--domain',
      't.test',
    ]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('must come over https');
    const plainOidc = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--oidc-discovery',
      'http://idp.example.test',
      '--domain',
      't.test',
    ]);
    expect(plainOidc.code).toBe(2);
    const both = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--saml-metadata',
      file('okta.xml'),
      '--oidc-discovery',
      'https://x.test',
      '--domain',
      't.test',
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exactly one of --saml-metadata and --oidc-discovery');
    const noDomain = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--saml-metadata',
      file('okta.xml'),
    ]);
    expect(noDomain.code).toBe(2);
    expect(noDomain.stderr).toContain('--domain');
    const noTenant = await jit(['connection', 'import', '--saml-metadata', file('okta.xml')]);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain("required option '--tenant <id>' not specified");
    const badPreset = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--saml-metadata',
      file('okta.xml'),
      '--domain',
      't.test',
      '--preset',
      'ping',
    ]);
    expect(badPreset.code).toBe(2);
  });
});

describe('jit connection import --metadata-cert', () => {
  const keys = join(import.meta.dirname, '..', '..', '..', 'test', 'e2e', 'fixtures');
  const pem = (name: string) => readFileSync(join(keys, name), 'utf8');
  const idpCert = join(keys, 'idp-cert.pem');
  const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
  const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
  const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
  const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

  const signed = (
    xml: string,
    o: { key?: string; cert?: string; reference?: string; algorithm?: string; digest?: string } = {},
  ): string => {
    const signer = new SignedXml({
      privateKey: pem(o.key ?? 'idp-key.pem'),
      ...(o.cert ? { publicCert: pem(o.cert) } : {}),
      signatureAlgorithm: o.algorithm ?? RSA_SHA256,
      canonicalizationAlgorithm: EXC_C14N,
    });
    signer.addReference({
      xpath: o.reference ?? '/*',
      transforms: [ENVELOPED, EXC_C14N],
      digestAlgorithm: o.digest ?? SHA256,
    });
    // SAML metadata puts the signature first in the signed element.
    signer.computeSignature(xml, { location: { reference: '/*', action: 'prepend' } });
    return signer.getSignedXml();
  };
  const idp = (entityId: string, sso: string) =>
    idpDescriptor({
      entityId,
      sso: [{ binding: 'redirect', location: sso }],
      certs: [{ body: certBody('current.pem') }],
    });
  const single = idp('https://idp.signed.test/saml', 'https://idp.signed.test/sso').replace(
    '<md:EntityDescriptor ',
    '<md:EntityDescriptor ID="_metadata" ',
  );
  const importing = (name: string, xml: string, extra: string[] = []) => {
    writeFileSync(file(name), xml);
    return jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--saml-metadata',
      file(name),
      '--domain',
      't.test',
      '--app-url',
      'https://app.test',
      ...extra,
    ]);
  };

  it('verifies metadata signed by the IdP key with its certificate, and imports it', async () => {
    const result = await importing('signed.xml', signed(single), ['--metadata-cert', idpCert]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('metadata signature verified with CN=idp.jit-sso.test');
    expect(result.stderr).not.toContain('warning');
    expect(JSON.parse(result.stdout).connections[0]).toMatchObject({
      issuer: 'https://idp.signed.test/saml',
      protocolOptions: { saml: { entryPoint: 'https://idp.signed.test/sso' } },
    });
  });

  it('refuses a tampered document, another key (even with its certificate in KeyInfo), and SHA-1', async () => {
    const tampered = signed(single).replace('https://idp.signed.test/sso', 'https://evil.test/sso');
    const other = signed(single, { key: 'other-idp-key.pem', cert: 'other-idp-cert.pem' });
    expect(other).toContain('<X509Certificate>');
    const sha1 = signed(single, {
      algorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      digest: 'http://www.w3.org/2000/09/xmldsig#sha1',
    });
    const sha1Digest = signed(single, { digest: 'http://www.w3.org/2000/09/xmldsig#sha1' });
    const results = await Promise.all([
      importing('tampered.xml', tampered, ['--metadata-cert', idpCert]),
      importing('other-key.xml', other, ['--metadata-cert', idpCert]),
      importing('sha1.xml', sha1, ['--metadata-cert', idpCert]),
      importing('sha1-digest.xml', sha1Digest, ['--metadata-cert', idpCert]),
    ]);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe('');
    }
    const [altered, foreign, weak, weakDigest] = results.map((r) => r.stderr);
    expect(altered).toContain('does not verify with the given certificate');
    expect(foreign).toContain('does not verify with the given certificate');
    expect(weak).toContain('signed with http://www.w3.org/2000/09/xmldsig#rsa-sha1, which is refused');
    expect(weakDigest).toContain('digest uses http://www.w3.org/2000/09/xmldsig#sha1, which is refused');
    // The other key's document does verify with the certificate it carries: only the given one counts.
    const own = await importing('other-key-own.xml', other, [
      '--metadata-cert',
      join(keys, 'other-idp-cert.pem'),
    ]);
    expect(own.code, own.stderr).toBe(0);
  });

  it('refuses a signature that covers another element than the root (signature wrapping)', async () => {
    // A genuinely signed entity, wrapped in an aggregate next to an unsigned forged one.
    const aggregate = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">
${single}
</md:EntitiesDescriptor>`;
    const wrapped = signed(aggregate, { reference: "//*[@ID='_metadata']" }).replace(
      '</md:EntitiesDescriptor>',
      `${idp('https://idp.forged.test/saml', 'https://forged.test/sso')}\n</md:EntitiesDescriptor>`,
    );
    expect(wrapped).toContain('URI="#_metadata"');
    const result = await importing('wrapped.xml', wrapped, [
      '--metadata-cert',
      idpCert,
      '--entity-id',
      'https://idp.forged.test/saml',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'The signature references "#_metadata", not the root element <md:EntitiesDescriptor>',
    );
    expect(result.stdout).toBe('');
  });

  it('refuses unsigned metadata when a certificate is given, and a certificate file that is not one', async () => {
    const unsigned = await importing('unsigned.xml', single, ['--metadata-cert', idpCert]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain(
      'The metadata is not signed: its root element <md:EntityDescriptor> carries no signature.',
    );
    expect(unsigned.stdout).toBe('');
    const notCert = await importing('signed-again.xml', signed(single), [
      '--metadata-cert',
      join(keys, 'idp-key.pem'),
    ]);
    expect(notCert.code).toBe(1);
    expect(notCert.stderr).toContain('must hold exactly one PEM certificate');
    const oidc = await jit([
      'connection',
      'import',
      '--tenant',
      't',
      '--oidc-discovery',
      'https://idp.test',
      '--metadata-cert',
      idpCert,
      '--mode',
      'off',
    ]);
    expect(oidc.code).toBe(2);
    expect(oidc.stderr).toContain('--metadata-cert verifies SAML metadata');
  });

  it('without a certificate, warns that the metadata is unsigned or unverified and imports it', async () => {
    const [unsigned, unverified] = await Promise.all([
      importing('plain.xml', single),
      importing('signed-unchecked.xml', signed(single)),
    ]);
    expect(unsigned.code, unsigned.stderr).toBe(0);
    expect(unsigned.stderr).toContain('warning: the metadata is unsigned');
    expect(unverified.code, unverified.stderr).toBe(0);
    expect(unverified.stderr).toContain(
      'warning: the metadata signature was not verified; pass --metadata-cert',
    );
    expect(JSON.parse(unverified.stdout)).toEqual(JSON.parse(unsigned.stdout));
  });
});

describe('what the metadata cannot tell', () => {
  it("refuses an import without the app's side of the connection, naming the options (exit 2)", async () => {
    const saml = await jit([
      'connection',
      'import',
      '--tenant',
      'acme',
      '--saml-metadata',
      file('okta.xml'),
      '--domain',
      'acme.com',
    ]);
    expect(saml.code).toBe(2);
    expect(saml.stderr).toContain('A SAML connection needs --sp-entity-id and --acs-url');
    expect(saml.stderr).toContain('--app-url');
    expect(saml.stdout).toBe('');
    const acsOnly = await jit([
      'connection',
      'import',
      '--tenant',
      'acme',
      '--saml-metadata',
      file('okta.xml'),
      '--domain',
      'acme.com',
      '--acs-url',
      'https://app.test/acs',
    ]);
    expect(acsOnly.code).toBe(2);
    expect(acsOnly.stderr).toContain('needs --sp-entity-id,');
    const mixed = await jit([
      'connection',
      'import',
      '--tenant',
      'acme',
      '--saml-metadata',
      file('okta.xml'),
      '--domain',
      'acme.com',
      '--app-url',
      'https://app.test',
      '--client-id',
      'x',
    ]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('--client-id is for OIDC connections');
    const notUrl = await jit([
      'connection',
      'import',
      '--tenant',
      'acme',
      '--saml-metadata',
      file('okta.xml'),
      '--domain',
      'acme.com',
      '--sp-entity-id',
      'urn:app',
      '--acs-url',
      '/acs',
    ]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toContain('--acs-url takes an absolute URL');
  });
});

describe('jit connection import --oidc-discovery', () => {
  it('reads a discovery document and writes an oidc connection; refuses one whose issuer is not the URL fetched', async () => {
    const server = await serve({
      '/.well-known/openid-configuration': {
        type: 'application/json',
        body: (base) =>
          JSON.stringify({
            issuer: base,
            authorization_endpoint: `${base}/auth`,
            token_endpoint: `${base}/token`,
            jwks_uri: `${base}/jwks`,
          }),
      },
      '/evil/.well-known/openid-configuration': {
        type: 'application/json',
        body: JSON.stringify({
          issuer: 'https://accounts.google.com',
          authorization_endpoint: 'https://x.test/a',
          jwks_uri: 'https://x.test/j',
        }),
      },
    });
    try {
      const ok = await jit(
        [
          'connection',
          'import',
          '--tenant',
          'acme',
          '--oidc-discovery',
          server.base,
          '--domain',
          'acme.com',
          '--client-id',
          'app-1',
          '--client-secret-env',
          'ACME_OIDC_SECRET',
          '--redirect-uri',
          'https://app.example.com/oidc/callback',
        ],
        { env: { ACME_OIDC_SECRET: 's3cret' } },
      );
      expect(ok.code, ok.stderr).toBe(0);
      const connection = JSON.parse(ok.stdout).connections[0];
      expect(connection).toMatchObject({
        id: 'acme-oidc',
        protocol: 'oidc',
        issuer: server.base,
        preset: 'oidc',
      });
      expect(connection.protocolOptions).toEqual({
        oidc: {
          clientId: 'app-1',
          clientSecret: 's3cret',
          redirectUri: 'https://app.example.com/oidc/callback',
          allowInsecureRequests: true,
        },
      });
      expect(ok.stderr).toContain('plain-http issuer');
      expect(() => defineConnection(connection)).not.toThrow();

      const evil = await jit([
        'connection',
        'import',
        '--tenant',
        'acme',
        '--oidc-discovery',
        `${server.base}/evil`,
        '--domain',
        'acme.com',
      ]);
      expect(evil.code).toBe(1);
      expect(evil.stderr).toContain('does not match the discovery URL');
    } finally {
      await server.close();
    }
  });

  it('detects Entra ID and refuses a multi-tenant issuer unless the admitted tenants are listed', async () => {
    const server = await serve({
      '/common/v2.0/.well-known/openid-configuration': {
        type: 'application/json',
        body: (base) =>
          JSON.stringify({
            // The real document names login.microsoftonline.com; here the host is the test server.
            issuer: `${base}/{tenantid}/v2.0`,
            authorization_endpoint: `${base}/common/oauth2/v2.0/authorize`,
            jwks_uri: `${base}/common/discovery/v2.0/keys`,
          }),
      },
    });
    try {
      const url = `${server.base}/common/v2.0`;
      const open = await jit([
        'connection',
        'import',
        '--tenant',
        'acme',
        '--oidc-discovery',
        url,
        '--domain',
        'acme.com',
      ]);
      expect(open.code).toBe(2);
      expect(open.stderr).toContain('--allowed-tenant-id');
      const allowed = await jit([
        'connection',
        'import',
        '--tenant',
        'acme',
        '--oidc-discovery',
        url,
        '--domain',
        'acme.com',
        '--allowed-tenant-id',
        TID,
        '--preset',
        'entra-oidc',
        '--client-id',
        'app-1',
        '--app-url',
        'https://app.example.com',
      ]);
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(JSON.parse(allowed.stdout).connections[0]).toMatchObject({
        // The adapters discover from the issuer URL; the {tenantid} template is not a URL.
        issuer: url,
        allowedTenantIds: [TID],
        preset: 'entra-oidc',
        protocolOptions: {
          oidc: {
            clientId: 'app-1',
            redirectUri: 'https://app.example.com/auth/oidc/acme-entra-oidc/callback',
          },
        },
      });
    } finally {
      await server.close();
    }
  });
});

describe('preset detection', () => {
  it.each([
    [`https://sts.windows.net/${TID}/`, 'https://login.microsoftonline.com/x/saml2', 'entra'],
    ['http://www.okta.com/exk1', 'https://acme.okta.com/app/sso/saml', 'okta'],
    [
      'https://accounts.google.com/o/saml2?idpid=C01abc',
      'https://accounts.google.com/o/saml2/idp?idpid=C01abc',
      'google',
    ],
    [
      'https://app.onelogin.com/saml/metadata/123',
      'https://acme.onelogin.com/trust/saml2/http-redirect/sso/123',
      'onelogin',
    ],
    [
      'https://idp.example.org/idp/shibboleth',
      'https://idp.example.org/idp/profile/SAML2/Redirect/SSO',
      'saml',
    ],
    // A look-alike host is not the vendor.
    ['https://okta.com.evil.test/idp', 'https://okta.com.evil.test/sso', 'saml'],
  ])('%s → %s', (entityId, sso, preset) => {
    expect(detectSamlPreset(entityId, sso)).toBe(preset);
  });

  it('reads certificates without a "use" attribute as signing certificates and skips encryption keys', () => {
    const parsed = parseSamlMetadata(entra);
    expect(parsed.certificates.map((c) => c.subject)).toEqual(['CN=idp-signing-2026', 'CN=idp-signing-2027']);
    expect(parsed.ssoBinding).toContain('HTTP-Redirect');
  });
});

describe('jit connection check', () => {
  it('prints every problem with its place in the file and exits 1', async () => {
    const config = {
      tenants: [{ id: 'acme' }, { id: 'acme' }, { id: 'globex', seatLimit: -1 }],
      connections: [
        {
          id: 'acme-okta',
          tenantId: 'acme',
          protocol: 'saml',
          issuer: 'http://www.okta.com/x',
          jit: { verifiedDomains: ['not a domain'] },
          protocolOptions: { idpCerts: ['bm90IGEgY2VydA=='] },
        },
        {
          id: 'acme-oidc',
          tenantId: 'initech',
          protocol: 'oidc',
          issuer: 'https://idp.test',
          jit: { verifiedDomains: ['acme.com'] },
        },
        {
          id: 'acme-oidc',
          tenantId: 'acme',
          protocol: 'oidc',
          issuer: 'https://idp.test',
          jit: { verifiedDomains: ['acme.com'] },
        },
        {
          id: 'old',
          tenantId: 'acme',
          protocol: 'saml',
          issuer: 'https://old.test',
          preset: 'ping',
          jit: { mode: 'off' },
        },
        {
          id: 'expired',
          tenantId: 'acme',
          protocol: 'saml',
          issuer: 'https://old.test',
          jit: { mode: 'off' },
          protocolOptions: {
            saml: {
              entryPoint: 'https://old.test/sso',
              idpCert: [certBody('expired.pem'), certBody('current.pem')],
              spEntityId: 'https://app.test',
              acsUrl: 'https://app.test/acs',
              wantAssertionSigned: true,
            },
          },
        },
        {
          // What earlier versions of the import wrote: the adapters refuse it.
          id: 'flat',
          tenantId: 'acme',
          protocol: 'saml',
          issuer: 'https://flat.test',
          jit: { mode: 'off' },
          protocolOptions: { entryPoint: 'https://flat.test/sso', idpCerts: [certBody('current.pem')] },
        },
        {
          id: 'no-redirect',
          tenantId: 'acme',
          protocol: 'oidc',
          issuer: 'https://idp.test',
          jit: { mode: 'off' },
          protocolOptions: { oidc: { clientId: 'app' } },
        },
      ],
    };
    writeFileSync(file('bad.json'), JSON.stringify(config));
    const result = await jit(['connection', 'check', file('bad.json')]);
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toMatch(/error\s+tenants\[1\] \(acme\)\s+tenant "acme" is listed twice/);
    expect(out).toMatch(/error\s+tenants\[2\] \(globex\)\s+seatLimit: /);
    expect(out).toMatch(/error\s+connections\[0\] \(acme-okta\)\s+jit\.verifiedDomains\.0: must be a domain/);
    expect(out).toMatch(
      /error\s+connections\[1\] \(acme-oidc\)\s+tenantId: tenant "initech" is not in "tenants"/,
    );
    expect(out).toMatch(/error\s+connections\[2\] \(acme-oidc\)\s+connection "acme-oidc" is listed twice/);
    expect(out).toMatch(/error\s+connections\[3\] \(old\)\s+preset: /);
    expect(out).toMatch(
      /warning\s+connections\[4\] \(expired\)\s+protocolOptions\.saml\.idpCert\[0\]: expired on 2021-01-01/,
    );
    expect(out).not.toMatch(/connections\[4\].*every signing certificate/);
    expect(out).not.toMatch(/error\s+connections\[4\]/);
    expect(out).toMatch(
      /warning\s+connections\[4\] \(expired\)\s+protocolOptions\.saml\.wantAssertionSigned: not a setting the adapters read/,
    );
    expect(out).toMatch(/error\s+connections\[5\] \(flat\)\s+protocolOptions\.saml\.idpCert is required/);
    expect(out).toMatch(
      /warning\s+connections\[5\] \(flat\)\s+protocolOptions\.idpCerts: not read by the adapters; SAML settings go in protocolOptions\.saml/,
    );
    expect(out).toMatch(
      /error\s+connections\[6\] \(no-redirect\)\s+protocolOptions\.oidc\.redirectUri is required/,
    );
    expect(result.stderr).toContain('error(s)');

    const json = await jit(['connection', 'check', file('bad.json'), '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.valid).toBe(false);
    expect(
      report.problems.filter((p: { severity: string }) => p.severity === 'error').length,
    ).toBeGreaterThanOrEqual(6);
  });

  it('says what is wrong with a file that is not JSON, or missing', async () => {
    writeFileSync(file('broken.json'), '{ "tenants": [ }');
    const broken = await jit(['connection', 'check', file('broken.json')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('is not valid JSON');
    const missing = await jit(['connection', 'check', file('absent.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ENOENT');
    const usage = await jit(['connection', 'check']);
    expect(usage.code).toBe(2);
  });
});
