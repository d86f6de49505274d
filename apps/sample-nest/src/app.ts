import 'reflect-metadata';
import {
  Catch,
  Controller,
  Get,
  Inject,
  Module,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
  type ArgumentsHost,
  type DynamicModule,
  type ExceptionFilter,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import express, { type Request, type Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import { isJitError, type Connection, type UserRecord } from '@jit-sso/core';
import {
  JitModule,
  JitSamlStrategy,
  JitService,
  JitSessionGuard,
  OidcAuthGuard,
  roleNames,
  SamlAuthGuard,
} from '@jit-sso/nest';
import {
  ADMIN_ROLE,
  adminOnlyPage,
  adminPage,
  errorPage,
  homePage,
  lastSignInFromAudit,
  latestAuditEvents,
  profilePage,
  securityHeaders,
  SESSION_COOKIE,
  sessionCookie,
  signOutPage,
  trustProxyFor,
  type LastLogin,
  type PreparedSample,
  type Viewer,
} from '@jit-sso/sample-express';

type SessionRequest = Request & { session: { lastLogin?: LastLogin; save(cb: () => void): void } };

/** What the controllers need besides the engine. */
export const SAMPLE = Symbol('SAMPLE');
export interface SampleSettings {
  connections: readonly Connection[];
  publicUrl: string;
  idpUrl: string | null;
}

function viewerOf(req: Request): Viewer | null {
  const user = req.user as UserRecord | undefined;
  return user && typeof user.email === 'string' ? { email: user.email, roles: roleNames(user) } : null;
}

/** Refusals as the Express sample shows them: the code, the reason and what an administrator would fix. */
@Catch()
export class SampleErrorFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (!isJitError(error)) {
      const status = (error as { getStatus?: () => number }).getStatus?.() ?? 500;
      if (status >= 500) console.error(error);
      res
        .status(status)
        .type('text')
        .send(status === 404 ? 'Not found' : 'Something went wrong.');
      return;
    }
    const { code, message, hint } = error.toJSON();
    res.status(error.httpStatus).set('Cache-Control', 'no-store');
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ error: { code, message, hint } });
      return;
    }
    res
      .type('html')
      .send(errorPage({ viewer: viewerOf(req), status: error.httpStatus, code, message, hint }));
  }
}

/** After a completed sign-in: remember what it did (from the engine's audit event) and show the profile. */
async function afterSignIn(jit: JitService, req: SessionRequest, res: Response): Promise<void> {
  const user = req.user as UserRecord;
  req.session.lastLogin = (await lastSignInFromAudit(jit, user.id)) ?? undefined;
  req.session.save(() => res.redirect(303, '/profile'));
}

@Controller('auth')
@UseFilters(SampleErrorFilter)
class AuthController {
  constructor(
    @Inject(JitSamlStrategy) private readonly saml: JitSamlStrategy,
    @Inject(JitService) private readonly jit: JitService,
  ) {}

  @Get('saml/:connection/login')
  @UseGuards(SamlAuthGuard)
  samlLogin(): void {}

  @Post('saml/:connection/acs')
  @UseGuards(SamlAuthGuard)
  samlAcs(@Req() req: SessionRequest, @Res() res: Response): Promise<void> {
    return afterSignIn(this.jit, req, res);
  }

  @Get('saml/:connection/metadata')
  async metadata(@Req() req: Request, @Res() res: Response): Promise<void> {
    res.type('application/samlmetadata+xml').send(await this.saml.metadata(req));
  }

  @Get('oidc/:connection/login')
  @UseGuards(OidcAuthGuard)
  oidcLogin(): void {}

  @Get('oidc/:connection/callback')
  @UseGuards(OidcAuthGuard)
  oidcCallback(@Req() req: SessionRequest, @Res() res: Response): Promise<void> {
    return afterSignIn(this.jit, req, res);
  }
}

@Controller()
@UseFilters(SampleErrorFilter)
class PagesController {
  constructor(
    @Inject(JitService) private readonly jit: JitService,
    @Inject(SAMPLE) private readonly sample: SampleSettings,
  ) {}

  @Get()
  home(@Req() req: Request, @Res() res: Response): void {
    res.type('html').send(
      homePage({
        viewer: viewerOf(req),
        connections: this.sample.connections,
        scimUrl: `${this.sample.publicUrl}/scim/v2`,
        idpUrl: this.sample.idpUrl,
      }),
    );
  }

  @Get('profile')
  @UseGuards(JitSessionGuard)
  async profile(@Req() req: SessionRequest, @Res() res: Response): Promise<void> {
    const user = req.user as UserRecord;
    const [identities, audit] = await Promise.all([
      this.jit.store.listIdentitiesOfUser(user.id),
      latestAuditEvents(this.jit, { userId: user.id }, 50),
    ]);
    res.type('html').send(
      profilePage({
        user,
        roles: roleNames(user),
        lastLogin: req.session.lastLogin ?? null,
        identities,
        audit,
      }),
    );
  }

  @Get('admin')
  @UseGuards(JitSessionGuard)
  async admin(@Req() req: Request, @Res() res: Response): Promise<void> {
    const viewer = viewerOf(req)!;
    if (!viewer.roles.includes(ADMIN_ROLE)) {
      res.status(403).type('html').send(adminOnlyPage(viewer, ADMIN_ROLE));
      return;
    }
    const user = req.user as UserRecord;
    const users = await this.jit.store.listUsers({ tenantId: user.tenantId, limit: 500 });
    const audit = await latestAuditEvents(this.jit, { tenantId: user.tenantId }, 100);
    res.type('html').send(adminPage({ viewer, users, audit }));
  }

  @Post('logout')
  async logout(@Req() req: Request, @Res() res: Response): Promise<void> {
    await new Promise<void>((resolve, reject) => req.logout((error) => (error ? reject(error) : resolve())));
    await new Promise<void>((resolve, reject) =>
      req.session.destroy((error) => (error ? reject(error) : resolve())),
    );
    res.clearCookie(SESSION_COOKIE, sessionCookie(this.sample.publicUrl)).redirect(303, '/');
  }

  @Get('logout')
  signOut(@Req() req: Request, @Res() res: Response): void {
    res
      .status(405)
      .set('Allow', 'POST')
      .type('html')
      .send(signOutPage(viewerOf(req)));
  }
}

@Module({})
class SampleModule {
  static register(prepared: PreparedSample): DynamicModule {
    return {
      module: SampleModule,
      imports: [
        JitModule.forRoot({
          store: prepared.store,
          tenants: prepared.config.tenants,
          connections: prepared.config.connections,
          replayCache: prepared.replayCache,
        }),
      ],
      controllers: [AuthController, PagesController],
      providers: [
        {
          provide: SAMPLE,
          useValue: {
            connections: prepared.connections,
            publicUrl: prepared.url,
            idpUrl: prepared.idp?.url ?? null,
          } satisfies SampleSettings,
        },
      ],
    };
  }
}

/**
 * The Nest sample on the Express sample's services: SCIM at `/scim/v2`, sessions that keep only the
 * user id, and the same pages.
 */
export async function createNestSampleApp(prepared: PreparedSample): Promise<{
  app: INestApplication;
  handler: express.Express;
}> {
  const server = express();
  server.disable('x-powered-by');
  trustProxyFor(server, prepared.url);
  server.use(securityHeaders(prepared.url));
  server.use('/scim/v2', prepared.scimHandler);
  server.use(
    session({
      name: SESSION_COOKIE,
      secret: prepared.sessionSecret,
      ...(prepared.sessionStore ? { store: prepared.sessionStore } : {}),
      resave: false,
      saveUninitialized: false,
      cookie: sessionCookie(prepared.url),
    }),
    passport.initialize(),
    passport.session(),
  );
  const app = await NestFactory.create(SampleModule.register(prepared), new ExpressAdapter(server), {
    logger: ['error', 'warn'],
  });
  await app.init();
  return { app, handler: server };
}
