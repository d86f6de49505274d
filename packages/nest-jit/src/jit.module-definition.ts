import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { JitModuleOptions } from './options.js';

export const {
  ConfigurableModuleClass: JitConfigurableModule,
  MODULE_OPTIONS_TOKEN: JIT_MODULE_OPTIONS,
  OPTIONS_TYPE: JIT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: JIT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<JitModuleOptions>({ moduleName: 'Jit' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createJitOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** `forRoot` options: the engine's options plus `isGlobal`. */
export type JitForRootOptions = typeof JIT_OPTIONS_TYPE;
/** `forRootAsync` options: `useFactory` + `inject`, `useClass` or `useExisting`, `imports`, `isGlobal`. */
export type JitForRootAsyncOptions = typeof JIT_ASYNC_OPTIONS_TYPE;
