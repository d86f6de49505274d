import { ConfigurableModuleBuilder } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { JitModuleOptions } from './options.js';
import { JitExceptionFilter } from './jit-exception.filter.js';
import { JIT_MODULE_OPTIONS } from './jit.options-token.js';

export { JIT_MODULE_OPTIONS };

export const {
  ConfigurableModuleClass: JitConfigurableModule,
  OPTIONS_TYPE: JIT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: JIT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<JitModuleOptions>({
  moduleName: 'Jit',
  optionsInjectionToken: JIT_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createJitOptions')
  .setExtras({ isGlobal: false, exceptionFilter: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    // Without it a JitError is no HttpException, and Nest answers every refusal with a 500.
    providers: [
      ...(definition.providers ?? []),
      ...(extras.exceptionFilter === false ? [] : [{ provide: APP_FILTER, useExisting: JitExceptionFilter }]),
    ],
  }))
  .build();

/**
 * `forRoot` options: the engine's options plus `isGlobal`, and `exceptionFilter` (default true:
 * `JitExceptionFilter` is installed globally, so refusals get their 4xx; false to register it yourself).
 */
export type JitForRootOptions = typeof JIT_OPTIONS_TYPE;
/** `forRootAsync` options: `useFactory` + `inject`, `useClass` or `useExisting`, `imports`, `isGlobal`, `exceptionFilter`. */
export type JitForRootAsyncOptions = typeof JIT_ASYNC_OPTIONS_TYPE;
