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
import { createScimNodeHandler, type ScimNodeHandlerOptions, type ScimService } from '@jit-sso/scim';

export interface JitScimModuleOptions extends Pick<ScimNodeHandlerOptions, 'maxBodyBytes'> {
  /** The SCIM service (`createScimService` of `@jit-sso/scim`). */
  service: ScimService;
  /** The SCIM base path, after any global prefix (default `scim/v2`). */
  path?: string;
}

export const {
  ConfigurableModuleClass: JitScimConfigurableModule,
  MODULE_OPTIONS_TOKEN: JIT_SCIM_OPTIONS,
  OPTIONS_TYPE: JIT_SCIM_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: JIT_SCIM_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<JitScimModuleOptions>({ moduleName: 'JitScim' })
  .setClassMethodName('forRoot')
  .build();

export type JitScimForRootOptions = typeof JIT_SCIM_OPTIONS_TYPE;
export type JitScimForRootAsyncOptions = typeof JIT_SCIM_ASYNC_OPTIONS_TYPE;

type NodeRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

/**
 * Nest 11 moved its routes to path-to-regexp 8, whose wildcards are named (`*rest`); Nest 10's are
 * bare (`*`, where `*rest` would match only paths ending in "rest"). `IntrinsicException` arrived in
 * @nestjs/common with 11, so its presence tells the two apart.
 */
const NAMED_WILDCARDS = 'IntrinsicException' in nestCommon;

/**
 * `JitScimModule.forRoot({ service, path })` or `forRootAsync({ useFactory, inject, imports })`:
 * serves the SCIM 2.0 endpoint of `@jit-sso/scim` under `path` as middleware, which answers before
 * guards run (a SCIM client authenticates with its directory's bearer token, not a session). The raw
 * body is read by the service, so `application/scim+json` works; a body Nest's JSON parser already
 * read is used as it is.
 */
@Module({})
export class JitScimModule extends JitScimConfigurableModule implements NestModule {
  constructor(@Inject(JIT_SCIM_OPTIONS) private readonly options: JitScimModuleOptions) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    const path = (this.options.path ?? 'scim/v2').replace(/^\/+|\/+$/g, '');
    const handler = createScimNodeHandler(this.options.service, {
      ...(this.options.maxBodyBytes ? { maxBodyBytes: this.options.maxBodyBytes } : {}),
    });
    const serve = (req: NodeRequest, res: ServerResponse, next: (error?: unknown) => void) => {
      // The service sees the path after the SCIM base, whatever global prefix is in front of it.
      const url = new URL(req.originalUrl ?? req.url ?? '/', 'http://scim.local');
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
