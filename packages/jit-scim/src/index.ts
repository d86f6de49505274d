export { ScimError, type ScimType } from './errors.js';
export { formatFilter, parseFilter, parsePatchPath, type PatchPath } from './filter.js';
export {
  createScimService,
  type ScimRequest,
  type ScimResponse,
  type ScimService,
  type ScimServiceOptions,
} from './service.js';
export { createScimNodeHandler, type ScimNodeHandler, type ScimNodeHandlerOptions } from './node.js';
export {
  authenticate,
  createDirectory,
  hashToken,
  issueDirectoryToken,
  revokeDirectoryToken,
} from './tokens.js';
export {
  BULK_REQUEST_SCHEMA,
  BULK_RESPONSE_SCHEMA,
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  LIST_SCHEMA,
  PATCH_SCHEMA,
  SEARCH_SCHEMA,
  USER_SCHEMA,
} from './discovery.js';
export {
  createScimAuthThrottle,
  type ScimAuthThrottle,
  type ScimAuthThrottleOptions,
  type ThrottleRedisClient,
} from './throttle.js';
