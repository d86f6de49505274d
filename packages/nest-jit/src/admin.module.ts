import {
  ConfigurableModuleBuilder,
  Inject,
  Module,
  RequestMethod,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import * as nestCommon from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createAdminNodeHandler,
  type AdminCaller,
  type AdminNodeHandlerOptions,
  type AdminService,
} from '@jit-sso/protocol';

export interface JitAdminModuleOptions extends Pick<AdminNodeHandlerOptions, 'maxBodyBytes'> {
  /** The admin service (`createAdminService` of `@jit-sso/protocol`). */
  service: AdminService;
  /** Who is calling and which tenant they administer (from the app's session or token); `null` answers 401. */
  caller(req: IncomingMessage): AdminCaller | null | Promise<AdminCaller | null>;
  /** The API's base path, after any global prefix (default `admin/api`). */
  path?: string;
}

export const {
  ConfigurableModuleClass: JitAdminConfigurableModule,
  MODULE_OPTIONS_TOKEN: JIT_ADMIN_OPTIONS,
  OPTIONS_TYPE: JIT_ADMIN_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: JIT_ADMIN_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<JitAdminModuleOptions>({ moduleName: 'JitAdmin' })
  .setClassMethodName('forRoot')
  .build();

export type JitAdminForRootOptions = typeof JIT_ADMIN_OPTIONS_TYPE;
export type JitAdminForRootAsyncOptions = typeof JIT_ADMIN_ASYNC_OPTIONS_TYPE;

type NodeRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

// Nest 11's routes use named wildcards (`*rest`), Nest 10's bare ones (see JitScimModule).
const NAMED_WILDCARDS = 'IntrinsicException' in nestCommon;

/**
 * `JitAdminModule.forRoot({ service, caller, path })` or `forRootAsync(...)`: serves the admin
 * service of `@jit-sso/protocol` (self-serve SSO onboarding) as a JSON API under `path`, as
 * middleware. The caller comes from the app (its session, its token), as with the other adapters.
 */
@Module({})
export class JitAdminModule extends JitAdminConfigurableModule implements NestModule {
  constructor(@Inject(JIT_ADMIN_OPTIONS) private readonly options: JitAdminModuleOptions) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    const path = (this.options.path ?? 'admin/api').replace(/^\/+|\/+$/g, '');
    const handler = createAdminNodeHandler<NodeRequest>(this.options.service, {
      caller: (req) => this.options.caller(req),
      ...(this.options.maxBodyBytes ? { maxBodyBytes: this.options.maxBodyBytes } : {}),
    });
    const serve = (req: NodeRequest, res: ServerResponse, next: (error?: unknown) => void) => {
      // The API sees the path after its base, whatever global prefix is in front of it.
      const url = new URL(req.originalUrl ?? req.url ?? '/', 'http://admin.local');
      const at = url.pathname.indexOf(`/${path}`);
      const rest = at < 0 ? url.pathname : url.pathname.slice(at + path.length + 1);
      req.url = `${rest || '/'}${url.search}`;
      void handler(req, res, next);
    };
    consumer
      .apply(serve)
      .forRoutes(
        { path, method: RequestMethod.ALL },
        { path: `${path}/${NAMED_WILDCARDS ? '*rest' : '*'}`, method: RequestMethod.ALL },
      );
  }
}
