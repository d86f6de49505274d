import { startDevIdp } from './server.js';

// Standalone: `npm start -w @jit-sso/dev-idp`. Without registered apps only the pages and metadata
// are useful; the sample apps start it with their clients and service providers.
const idp = await startDevIdp({ port: Number(process.env['PORT'] ?? 3001) });
console.log(`Dev IdP at ${idp.url} (OIDC issuer ${idp.oidc.issuer}, SAML entity id ${idp.saml.entityId})`);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void idp.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
