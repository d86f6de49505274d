export * from './errors.js';
export * from './model.js';
export * from './store.js';
export * from './email.js';
export * from './profile.js';
export * from './mapping.js';
export * from './connection.js';
export * from './provisioner.js';
export { MemoryStore } from './memory-store.js';
export { uuidv7 } from './ids.js';
export * from './directory.js';
export { MemoryDirectoryStore } from './memory-directory.js';
export {
  consoleLogger,
  describeError,
  logServerError,
  type FailedRequest,
  type JitLogger,
  type LoggedError,
} from './logger.js';
