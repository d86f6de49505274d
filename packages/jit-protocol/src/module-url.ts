/**
 * The URL of this module, from which the package finds the files it ships beside its code (the
 * SAML validation worker). CommonJS has no `import.meta`: the CommonJS build replaces the
 * expression below with the file's own URL (`scripts/build-package.mjs`).
 */
// eslint-disable-next-line @typescript-eslint/ban-ts-comment -- an error in one of the two builds only
// @ts-ignore TS1343 in the CommonJS build only, where the build script rewrites this expression.
export const moduleUrl: string = import.meta.url;
