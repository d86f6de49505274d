import 'reflect-metadata';
import {
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Module,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import type { ProvisioningResult, UserRecord } from '@jit-sso/core';
import {
  CurrentUser,
  JitAdminModule,
  JitExceptionFilter,
  JitModule,
  JitSamlStrategy,
  JitScimModule,
  JitSessionGuard,
  OidcAuthGuard,
  roleNames,
  SamlAuthGuard,
} from '@jit-sso/nest';
import type { AdapterApp, AppEnvironment } from '../harness.js';
import { adminCallerOf } from '../environment.js';

/** The suite's app, built the way a NestJS user builds it with `@jit-sso/nest`. */
export async function buildNestApp(env: AppEnvironment): Promise<AdapterApp> {
  @Controller()
  @UseFilters(JitExceptionFilter)
  class AuthController {
    constructor(@Inject(JitSamlStrategy) private readonly saml: JitSamlStrategy) {}

    @Get('auth/saml/:connection/login')
    @UseGuards(SamlAuthGuard)
    samlLogin(): void {}

    @Post('auth/saml/:connection/acs')
    @UseGuards(SamlAuthGuard)
    samlAcs(@Req() req: Request & { jitTestResult?: ProvisioningResult }, @Res() res: Response): void {
      const test = req.jitTestResult;
      // A test sign-in: the decision, and no session.
      if (test) res.json({ test: true, action: test.action, roles: test.roles });
      else res.redirect(303, '/');
    }

    @Get('auth/saml/:connection/metadata')
    @Header('Content-Type', 'application/samlmetadata+xml')
    samlMetadata(@Req() req: Request): Promise<string> {
      return this.saml.metadata(req);
    }

    @Get('auth/oidc/:connection/login')
    @UseGuards(OidcAuthGuard)
    oidcLogin(): void {}

    @Get('auth/oidc/:connection/callback')
    @UseGuards(OidcAuthGuard)
    oidcCallback(@Req() req: Request & { jitTestResult?: ProvisioningResult }, @Res() res: Response): void {
      const test = req.jitTestResult;
      // A test sign-in: the decision, and no session.
      if (test) res.json({ test: true, action: test.action, roles: test.roles });
      else res.redirect(303, '/');
    }

    @Get('me')
    @UseGuards(JitSessionGuard)
    me(@CurrentUser() user: UserRecord) {
      return { user, roles: roleNames(user) };
    }

    @Post('logout')
    @HttpCode(204)
    async logout(@Req() req: Request): Promise<void> {
      await new Promise<void>((resolve, reject) =>
        req.logout((error) => (error ? reject(error) : resolve())),
      );
      await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    }
  }

  @Module({
    imports: [
      // The suite's engine, as the Express and Koa apps use it; connections are checked at start-up.
      JitModule.forRoot({
        provisioner: env.provisioner,
        connections: env.connections,
        replayCache: env.replayCache,
        ...(env.samlValidationPool ? { samlValidationPool: env.samlValidationPool } : {}),
        ...(env.loginAdmission ? { loginAdmission: env.loginAdmission } : {}),
      }),
      JitScimModule.forRoot({ service: env.scim }),
      ...(env.admin
        ? [JitAdminModule.forRoot({ service: env.admin, caller: (req) => adminCallerOf(req.headers) })]
        : []),
    ],
    controllers: [AuthController],
  })
  class AppModule {}

  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: false });
  app.use(
    session({
      name: 'sid',
      secret: env.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.use(passport.initialize());
  app.use(passport.session());
  await app.listen(env.port, '127.0.0.1');
  return { baseUrl: env.baseUrl, close: () => app.close() };
}
