// The public surface of @jit-sso/core, named one by one: what apps, adapters and stores use. Helpers
// used only inside the engine stay unexported. `api/core.api.md` records this surface for review.

// The engine
export { createProvisioner, type Provisioner, type ProvisionerOptions } from './provisioner.js';
export type { ProtocolDenial, ProvisionRequest, ProvisioningEvent, SignInAttempt } from './provisioner.js';
export type {
  LoginOutcome,
  ProvisioningResult,
  Resolver,
  ResolverContext,
  ResolverDecision,
} from './decision.js';
export type { DormantCleanupOptions, DormantCleanupReport, SeatAdmission } from './lifecycle.js';

// Connections, tenants and the mapping of IdP attributes
export {
  defineConnection,
  defineStoredConnection,
  defineTenant,
  rolesForGroups,
  type Connection,
  type ConnectionInput,
  type JitMode,
  type RoleRule,
  type Tenant,
  type TenantInput,
} from './connection.js';
export {
  buildMapping,
  mapProfile,
  PRESET_NAMES,
  type AttributeMapping,
  type FieldMapping,
  type FieldMappingInput,
  type MappedProfile,
  type PresetName,
} from './mapping.js';
export {
  fromOidcClaims,
  fromSamlProfile,
  NAMEID_TRANSIENT,
  type SamlProfileInput,
  type SsoProfile,
} from './profile.js';
export { isDomainVerified, normaliseEmail, tryNormaliseEmail } from './email.js';
export { isPublicSuffix } from './connection.js';

// Configuration kept in a database and changed at run time
export {
  changeConfiguration,
  configurationAuditEvent,
  diffConfiguration,
  type ConfigurationAction,
  type ConfigurationChangeFields,
  type ConfigurationEvent,
  type ConfigurationEventQuery,
  type ConfigurationReader,
  type ConfigurationStore,
  type ConfigurationTransaction,
  type DomainStatus,
  type LoadedConnection,
  type StoredConnection,
  type StoredDomain,
  type StoredTenant,
} from './configuration.js';
export { MemoryConfigurationStore } from './memory-configuration.js';
export {
  importConfiguration,
  type ConfigurationImport,
  type ConfigurationImportReport,
} from './import-configuration.js';
export type { StoredConfigurationOptions } from './registry.js';

// Errors
export {
  ConfigurationError,
  isJitError,
  JitError,
  MissingAttributeError,
  SeatLimitReachedError,
  ServerBusyError,
  StoreConflictError,
  StoreError,
  UnknownConnectionError,
  WebhookError,
  type JitErrorCode,
  type JitErrorOptions,
} from './errors.js';

// Records, the audit, and the store contract
export type {
  AuditAction,
  AuditActor,
  AuditEvent,
  Change,
  GrantSource,
  IdentityRecord,
  RoleGrant,
  UserRecord,
  UserSource,
  UserStatus,
} from './model.js';
export { roleNames } from './model.js';
export { auditEvent, type AuditFields } from './audit.js';
export { uuidv7 } from './ids.js';
export type {
  AuditQuery,
  IdentityStore,
  IdentityWithUser,
  NewIdentity,
  NewUser,
  SingleUse,
  StoreReader,
  StoreTransaction,
  UserPatch,
  UserQuery,
} from './store.js';
export { MemoryStore } from './memory-store.js';

// Lifecycle events, the outbox and webhook delivery
export {
  EVENT_PAYLOAD_VERSION,
  hasLifecycleEvent,
  LIFECYCLE_EVENT_TYPES,
  lifecycleEventOf,
  MAX_AUDITED_MEMBERS,
  MAX_EVENT_PAYLOAD_BYTES,
  membersChange,
  webhookBody,
  type ConfigEventPayload,
  type EventPayload,
  type EventPayloadBase,
  type GroupEventPayload,
  type GroupMembersEventPayload,
  type LifecycleEvent,
  type LifecycleEventType,
  type RefusedLoginPayload,
  type UserEventPayload,
  type WebhookBody,
} from './events.js';
export {
  isOutboxStore,
  type ClaimedDelivery,
  type ClaimOptions,
  type DeliveryOutcome,
  type DeliveryQuery,
  type DeliveryRecord,
  type DeliveryStatus,
  type EndpointPatch,
  type OutboxStore,
  type WebhookEndpointRecord,
} from './outbox.js';
export {
  createDeliveryWorker,
  signatures as webhookSignatures,
  type DeliveryReport,
  type DeliveryWorker,
  type DeliveryWorkerOptions,
  type EventSubscriber,
  type RetryPolicy,
} from './webhooks.js';
export {
  checkWebhookUrl,
  isPublicAddress,
  type AddressResolver,
  type WebhookMode,
} from './webhook-address.js';
export {
  endpointView,
  listDeliveryFailures,
  listWebhookEndpoints,
  newWebhookSecret,
  pauseWebhookEndpoint,
  redeliverWebhooks,
  registerWebhookEndpoint,
  rotateWebhookSecret,
  type EndpointContext,
  type EndpointView,
} from './endpoints.js';

// The SCIM directory's records, store contract and filter evaluation (for @jit-sso/scim and stores)
export {
  compareValue,
  ENTERPRISE_USER_SCHEMA,
  filterView,
  getIgnoringCase,
  isDateAttribute,
  isDirectoryStore,
  matchesFilter,
  parseInstant,
  type AttributePath,
  type CompareOperator,
  type DirectoryReader,
  type DirectoryRecord,
  type DirectoryStore,
  type DirectoryTokenRecord,
  type DirectoryTransaction,
  type GroupMember,
  type MembershipChange,
  type NewScimResource,
  type ResourcePage,
  type ResourceQuery,
  type ScimFilter,
  type ScimResourcePatch,
  type ScimResourceRecord,
  type ScimResourceType,
  type ScimValue,
} from './directory.js';
export { MemoryDirectoryStore } from './memory-directory.js';

// Logging
export {
  consoleLogger,
  describeError,
  logServerError,
  type FailedRequest,
  type JitLogger,
  type LoggedError,
} from './logger.js';

// Sign-in tracer
export {
  defaultRedaction,
  MemorySignInTracer,
  redactAttributes,
  type Redaction,
  type SignInTracer,
  type SignInTracerOptions,
  type TracedAttempt,
} from './sign-in-tracer.js';

// SCIM directories and tokens
export { createDirectory, hashToken, issueDirectoryToken, revokeDirectoryToken } from './directory-tokens.js';

// Request bodies of the framework-free Node handlers
export { readJsonBody, type JsonBodyOptions } from './json-body.js';
