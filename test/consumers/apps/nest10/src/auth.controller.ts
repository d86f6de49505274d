import { Controller, Get, Post, Redirect, UseFilters, UseGuards } from '@nestjs/common';
import type { UserRecord } from '@jit-sso/core';
import {
  CurrentUser,
  JitExceptionFilter,
  JitSessionGuard,
  OidcAuthGuard,
  SamlAuthGuard,
} from '@jit-sso/nest';

@Controller()
@UseFilters(JitExceptionFilter)
export class AuthController {
  @Get()
  home(): string {
    return 'Signed in.';
  }

  @Get('auth/saml/:connection/login')
  @UseGuards(SamlAuthGuard)
  samlLogin(): void {}

  @Post('auth/saml/:connection/acs')
  @UseGuards(SamlAuthGuard)
  @Redirect('/', 303)
  samlAcs(): void {}

  @Get('auth/oidc/:connection/login')
  @UseGuards(OidcAuthGuard)
  oidcLogin(): void {}

  @Get('auth/oidc/:connection/callback')
  @UseGuards(OidcAuthGuard)
  @Redirect('/', 303)
  oidcCallback(): void {}

  @Get('me')
  @UseGuards(JitSessionGuard)
  me(@CurrentUser() user: UserRecord): UserRecord {
    return user;
  }
}
