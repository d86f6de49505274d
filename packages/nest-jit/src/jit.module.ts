import { Module } from '@nestjs/common';
import { JitConfigurableModule } from './jit.module-definition.js';
import { JitService } from './jit.service.js';
import { JitSessionGuard } from './session.guard.js';
import { JitSessionSerializer } from './session.serializer.js';
import { JitExceptionFilter } from './jit-exception.filter.js';

/**
 * `JitModule.forRoot(options)` or `JitModule.forRootAsync({ useFactory, inject, imports } |
 * { useClass } | { useExisting })`, with `isGlobal`. Provides `JitService` (the engine), the
 * session serializer and guard, and the exception filter.
 */
@Module({
  providers: [JitService, JitSessionSerializer, JitSessionGuard, JitExceptionFilter],
  exports: [JitService, JitSessionGuard, JitExceptionFilter],
})
export class JitModule extends JitConfigurableModule {}
