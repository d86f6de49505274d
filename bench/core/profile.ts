/**
 * Sequential sign-ins through the engine, for a CPU profile of one path:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/jit-prof --conditions=source --import tsx bench/core/profile.ts returning|first [--count=100000]
 */
import { createProvisioner, fromOidcClaims, MemoryStore } from '@jit-sso/core';

const mode = process.argv[2] === 'first' ? 'first' : 'returning';
const provisioner = createProvisioner({
  store: new MemoryStore(),
  connections: [
    {
      id: 'acme-oidc',
      tenantId: 'acme',
      protocol: 'oidc',
      issuer: 'https://idp.acme.test',
      jit: {
        verifiedDomains: ['acme.test'],
        defaultRoles: ['member'],
        roleRules: [{ group: 'Engineering', roles: ['developer'] }],
      },
    },
  ],
});
const claims = (n: string) => ({
  iss: 'https://idp.acme.test',
  sub: `sub-${n}`,
  email: `Person.${n}@Acme.test`,
  email_verified: true,
  given_name: 'Ann',
  family_name: 'Lee',
  groups: ['Everyone', 'Engineering'],
});

const count = Number(process.argv.find((a) => a.startsWith('--count='))?.slice(8) ?? 100_000);
const started = performance.now();
for (let i = 0; i < count; i++) {
  await provisioner.provision({
    connectionId: 'acme-oidc',
    profile: fromOidcClaims(claims(mode === 'first' ? String(i) : 'returning')),
  });
}
const ms = performance.now() - started;
console.log(
  `${mode}: ${Math.round((count / ms) * 1000)} sign-ins/s, ${((ms * 1000) / count).toFixed(2)} µs each`,
);
