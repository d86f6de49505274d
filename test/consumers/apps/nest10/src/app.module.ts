import { readFileSync } from 'node:fs';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JitModule, JitScimModule, JitService } from '@jit-sso/nest';
import { MemoryReplayCache } from '@jit-sso/protocol';
import { createScimService } from '@jit-sso/scim';
import { jitDataSourceOptions, TypeormDirectoryStore } from '@jit-sso/typeorm';
import { AuthController } from './auth.controller';

const { tenants, connections } = JSON.parse(readFileSync('connections.json', 'utf8'));
const replayCache = new MemoryReplayCache(); // RedisReplayCache for several processes

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
  ],
  controllers: [AuthController], // @UseGuards(SamlAuthGuard) on the ACS route, @CurrentUser() in handlers
})
export class AppModule {}
