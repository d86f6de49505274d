import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startProcess, type Child } from '@jit-sso/dev-idp/testing';
import type { AppProcessConfig } from './express-app.js';

export { startRedisServer, type Child } from '@jit-sso/dev-idp/testing';

const require = createRequire(import.meta.url);
const APP = fileURLToPath(new URL('./express-app.ts', import.meta.url));

/** The suite's Express app (`express-app.ts`) as its own process. */
export async function startAppProcess(config: AppProcessConfig): Promise<Child & { url: string }> {
  const child = await startProcess(
    process.execPath,
    [require.resolve('tsx/cli'), '--conditions=source', APP],
    {
      env: { ...process.env, JIT_E2E_APP: JSON.stringify(config) },
      ready: /listening on (\d+)/,
    },
  );
  return { ...child, url: `http://127.0.0.1:${child.match[1]}` };
}
