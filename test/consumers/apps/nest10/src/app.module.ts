import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JitAdminModule, JitModule, JitScimModule, JitService } from '@jit-sso/nest';
import { createAdminService, MemoryReplayCache, type AdminCaller } from '@jit-sso/protocol';
import { createScimService } from '@jit-sso/scim';
import { jitDataSourceOptions, TypeormConfigurationStore, TypeormDirectoryStore } from '@jit-sso/typeorm';
import { AuthController } from './auth.controller';

const { tenants, connections } = JSON.parse(readFileSync('connections.json', 'utf8'));
const replayCache = new MemoryReplayCache(); // RedisReplayCache for several processes

/**
 * The administrator calling the admin API. A real app takes it from its session (a signed-in
 * administrator of one tenant); this test app trusts two request headers, and only when started
 * with TRUST_ADMIN_HEADERS=1.
 */
function adminCaller(req: IncomingMessage): AdminCaller | null {
  const actor = req.headers['x-admin-actor'];
  const tenantId = req.headers['x-admin-tenant'];
  return process.env.TRUST_ADMIN_HEADERS === '1' && typeof actor === 'string' && typeof tenantId === 'string'
    ? { actor, tenantId }
    : null;
}

@Module({
  imports: [
    TypeOrmModule.forRoot({ ...jitDataSourceOptions(process.env.DATABASE_URL!), migrationsRun: true }),
    JitModule.forRootAsync({
      isGlobal: true,
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => ({
        store: new TypeormDirectoryStore(dataSource),
        tenants,
        connections,
        replayCache,
      }),
    }),
    JitScimModule.forRootAsync({
      inject: [DataSource, JitService],
      useFactory: (dataSource: DataSource, jit: JitService) => ({
        service: createScimService({
          store: new TypeormDirectoryStore(dataSource),
          provisioner: jit,
          baseUrl: `${process.env.APP_URL}/scim/v2`,
        }),
      }),
    }),
    // Self-serve onboarding under /admin/api, on the stored configuration of the same database.
    JitAdminModule.forRootAsync({
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => ({
        service: createAdminService({
          configuration: new TypeormConfigurationStore(dataSource),
          publicUrl: process.env.APP_URL!,
          audit: new TypeormDirectoryStore(dataSource), // refusals are audited as `denied`
        }),
        caller: adminCaller,
      }),
    }),
  ],
  controllers: [AuthController], // @UseGuards(SamlAuthGuard) on the ACS route, @CurrentUser() in handlers
})
export class AppModule {}
