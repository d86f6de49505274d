import { Module } from '@nestjs/common';
import { JitConfigurableModule } from './jit.module-definition.js';
import { JitService } from './jit.service.js';
import { JitSessionGuard } from './session.guard.js';
import { JitSessionSerializer } from './session.serializer.js';
import { JitExceptionFilter } from './jit-exception.filter.js';
import { JitSamlStrategy } from './saml.strategy.js';
import { JitOidcStrategy } from './oidc.strategy.js';
import { OidcAuthGuard, SamlAuthGuard } from './sso.guards.js';

/**
 * `JitModule.forRoot(options)` or `JitModule.forRootAsync({ useFactory, inject, imports } |
 * { useClass } | { useExisting })`, with `isGlobal`. Provides `JitService` (the engine), the SAML and
 * OIDC strategies and their guards, the session serializer and guard, and the exception filter.
 */
@Module({
  providers: [
    JitService,
    JitSessionSerializer,
    JitSessionGuard,
    JitExceptionFilter,
    JitSamlStrategy,
    JitOidcStrategy,
    SamlAuthGuard,
    OidcAuthGuard,
  ],
  exports: [
    JitService,
    JitSessionGuard,
    JitExceptionFilter,
    JitSamlStrategy,
    JitOidcStrategy,
    SamlAuthGuard,
    OidcAuthGuard,
  ],
})
export class JitModule extends JitConfigurableModule {}
