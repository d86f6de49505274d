/** The injection token of `JitModule`'s options; its own file so that the exception filter can take them without an import cycle. */
export const JIT_MODULE_OPTIONS = 'JIT_MODULE_OPTIONS';
