export { TypeormStore, type TypeormStoreOptions } from './store.js';
export {
  jitEntities,
  jitEntitiesFor,
  jitMigrations,
  JitUserEntity,
  JitIdentityEntity,
  JitAuditEventEntity,
  JitTenantEntity,
  type JitDialect,
  type JitUser,
  type JitIdentity,
  type JitAuditEvent,
  type JitTenant,
} from './schema.js';
export { jitEntitiesWithoutUser } from './user-entity.js';
export { jitUserColumns } from './columns.js';
export {
  createJitDataSource,
  jitDataSourceOptions,
  migrate,
  MIGRATIONS_TABLE,
  type JitDataSourceOptions,
} from './data-source.js';
export { dialectOf } from './sql.js';
export { TypeormDirectoryStore } from './directory/index.js';
export { TypeormConfigurationStore, type TypeormConfigurationStoreOptions } from './configuration/store.js';
export {
  configurationEntities,
  JitConfigConnectionEntity,
  JitConfigDomainEntity,
  JitConfigEventEntity,
  JitConfigStateEntity,
  JitConfigTenantEntity,
} from './configuration/schema.js';
export { TypeormSignInTracer, type TypeormSignInTracerOptions } from './tracer/tracer.js';
export { JitSignInTraceEntity, type JitSignInTrace } from './tracer/schema.js';
