import { Inject, Injectable } from '@nestjs/common';
import {
  ConfigurationError,
  createProvisioner,
  type AuditActor,
  type AuditEvent,
  type Connection,
  type DormantCleanupOptions,
  type DormantCleanupReport,
  type IdentityStore,
  type ProtocolDenial,
  type ProvisionerOptions,
  type ProvisioningResult,
  type ProvisionRequest,
  type Provisioner,
  type SeatAdmission,
  type StoreTransaction,
  type UserRecord,
} from '@jit-sso/core';
import { JIT_MODULE_OPTIONS } from './jit.module-definition.js';
import { checkModuleOptions, type JitModuleOptions } from './options.js';

/**
 * The engine as a Nest provider. Every decision is jit-core's; this class only builds the engine
 * from the module options when the module starts (so configuration errors stop the boot). It is
 * also what the SCIM service takes as its provisioner (`createScimService({ provisioner: jit })`),
 * for the connection's role rules and the tenants' seat limits.
 */
@Injectable()
export class JitService implements Provisioner, SeatAdmission {
  private readonly engine: Provisioner & Partial<SeatAdmission>;
  readonly options: JitModuleOptions;

  constructor(@Inject(JIT_MODULE_OPTIONS) options: JitModuleOptions) {
    checkModuleOptions(options);
    this.options = options;
    this.engine =
      'provisioner' in options && options.provisioner
        ? options.provisioner
        : createProvisioner(options as ProvisionerOptions);
  }

  get store(): IdentityStore {
    return this.engine.store;
  }

  provision(request: ProvisionRequest): Promise<ProvisioningResult> {
    return this.engine.provision(request);
  }

  getActiveUser(userId: string): Promise<UserRecord | null> {
    return this.engine.getActiveUser(userId);
  }

  deactivateUser(userId: string, options?: { actor?: AuditActor; reason?: string }): Promise<UserRecord> {
    return this.engine.deactivateUser(userId, options);
  }

  reactivateUser(userId: string, options?: { actor?: AuditActor; reason?: string }): Promise<UserRecord> {
    return this.engine.reactivateUser(userId, options);
  }

  deactivateDormant(options: DormantCleanupOptions): Promise<DormantCleanupReport> {
    return this.engine.deactivateDormant(options);
  }

  getConnection(id: string): Promise<Connection> {
    return this.engine.getConnection(id);
  }

  recordDenial(denial: ProtocolDenial): Promise<AuditEvent | null> {
    return this.engine.recordDenial(denial);
  }

  listConnections(): readonly Connection[] {
    return this.engine.listConnections?.() ?? [];
  }

  admitUser(tx: StoreTransaction, tenantId: string): Promise<void> {
    if (typeof this.engine.admitUser !== 'function') {
      return Promise.reject(
        new ConfigurationError(
          'The provisioner given to JitModule cannot admit users within seat limits: build it with createProvisioner.',
        ),
      );
    }
    return this.engine.admitUser(tx, tenantId);
  }
}
