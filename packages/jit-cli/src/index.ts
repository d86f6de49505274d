export { run, VERSION, type RunOptions, type CommandContext } from './program.js';
export { memoryBackend, databaseKind, redactUrl, type Backend, type OpenBackend } from './backend.js';
export { CliError, UsageError, EXIT_OK, EXIT_FAILURE, EXIT_USAGE, type CliErrorCode } from './errors.js';
export type { CliIo } from './io.js';
export { checkConfig, type ConfigFile, type ConfigProblem } from './config.js';
export {
  parseSamlMetadata,
  parseOidcDiscovery,
  detectSamlPreset,
  detectOidcPreset,
  type SamlIdpMetadata,
  type OidcDiscovery,
} from './metadata.js';
export { readLeavers, type LeaverRow } from './leavers.js';
