import 'reflect-metadata';
import { fromOidcClaims, MemoryStore, type ConnectionInput, type SsoProfile } from '@jit-sso/core';
import type { JitModuleOptions } from '../src/index.js';

export const ISSUER = 'https://idp.acme.test';

export function oidcConnection(overrides: Partial<ConnectionInput> = {}): ConnectionInput {
  return {
    id: 'acme-oidc',
    tenantId: 'acme',
    protocol: 'oidc',
    issuer: ISSUER,
    jit: { verifiedDomains: ['acme.test'], defaultRoles: ['member'] },
    protocolOptions: {
      oidc: {
        clientId: 'app',
        clientSecret: 'secret',
        redirectUri: 'https://app.test/auth/oidc/acme-oidc/callback',
      },
    },
    ...overrides,
  };
}

export function options(overrides: Partial<JitModuleOptions> = {}): JitModuleOptions {
  return { store: new MemoryStore(), connections: [oidcConnection()], ...overrides };
}

export function annLogin(claims: Record<string, unknown> = {}): SsoProfile {
  return fromOidcClaims({
    iss: ISSUER,
    sub: 'ann-sub',
    email: 'ann@acme.test',
    email_verified: true,
    ...claims,
  });
}
