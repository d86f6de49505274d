export { createSampleApp, ADMIN_ROLE, type SampleAppOptions } from './app.js';
export {
  prepareSample,
  startSample,
  DEFAULT_DATABASE_URL,
  type DemoDirectory,
  type PreparedSample,
  type Sample,
  type SampleOptions,
} from './start.js';
export { loadConfig, validateConfig, substitute, displayNameOf, type SampleConfig } from './config.js';
export { runFromEnvironment } from './cli.js';
export { securityHeaders, SESSION_COOKIE, sessionCookie, trustProxyFor } from './security.js';
export { latestAuditEvents, lastSignInFromAudit } from './audit.js';
export {
  adminOnlyPage,
  adminPage,
  errorPage,
  homePage,
  layout,
  profilePage,
  signOutPage,
  STYLE_HASH,
  type LastLogin,
  type Viewer,
} from './pages.js';
