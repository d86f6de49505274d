import './fixtures.js';
import { Controller, Get, HttpCode, Inject, Module, Post, Req } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import session from 'express-session';
import passport from 'passport';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '@jit-sso/core';
import {
  AllowAnonymous,
  CurrentUser,
  JitExceptionFilter,
  JitModule,
  JitService,
  JitSessionGuard,
} from '../src/index.js';
import { annLogin, options } from './fixtures.js';

@Controller()
class AppController {
  constructor(@Inject(JitService) private readonly jit: JitService) {}

  @Post('login')
  @AllowAnonymous()
  @HttpCode(204)
  async login(@Req() req: { logIn(user: UserRecord, done: (error?: unknown) => void): void }): Promise<void> {
    const result = await this.jit.provision({ connectionId: 'acme-oidc', profile: annLogin() });
    await new Promise<void>((resolve, reject) => req.logIn(result.user, (e) => (e ? reject(e) : resolve())));
  }

  @Get('health')
  @AllowAnonymous()
  health() {
    return { ok: true };
  }

  @Get('reports')
  reports(@CurrentUser('email') email: string) {
    return { email };
  }
}

@AllowAnonymous()
@Controller('public')
class PublicController {
  @Get()
  index() {
    return { public: true };
  }
}

@Module({
  imports: [JitModule.forRoot({ ...options(), isGlobal: true })],
  controllers: [AppController, PublicController],
  providers: [
    { provide: APP_GUARD, useClass: JitSessionGuard },
    { provide: APP_FILTER, useClass: JitExceptionFilter },
  ],
})
class AppModule {}

describe('JitSessionGuard registered globally', () => {
  let app: INestApplication;
  beforeEach(async () => {
    app = await NestFactory.create(AppModule, { logger: false });
    app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false }));
    app.use(passport.initialize());
    app.use(passport.session());
    await app.init();
  });
  afterEach(() => app.close());

  it('guards every route that is not marked @AllowAnonymous()', async () => {
    const res = await request(app.getHttpServer())
      .get('/reports')
      .set('Accept', 'application/json')
      .expect(401);
    expect(res.body.error.code).toBe('SESSION_ENDED');
    await request(app.getHttpServer()).get('/health').expect(200, { ok: true });
    await request(app.getHttpServer()).get('/public').expect(200, { public: true });
  });

  it('admits a signed-in active user and refuses them once deactivated', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login').expect(204);
    expect((await agent.get('/reports').expect(200)).body).toEqual({ email: 'ann@acme.test' });
    const user = await app.get(JitService).store.findUserByEmail('acme', 'ann@acme.test');
    await app.get(JitService).deactivateUser(user!.id);
    const res = await agent.get('/reports').set('Accept', 'application/json').expect(401);
    expect(res.body.error.code).toBe('SESSION_ENDED');
  });
});
