import express from 'express';
import type { AddressInfo } from 'node:net';
import { MemoryDirectoryStore, type DirectoryStore } from '@jit-sso/core';
import {
  createDirectory,
  createScimNodeHandler,
  createScimService,
  issueDirectoryToken,
  type ScimNodeHandler,
} from '../../src/index.js';

export interface RunningScimServer {
  url: string;
  port: number;
  token: string;
  store: DirectoryStore;
  close(): Promise<void>;
}

/** An Express app with the SCIM service mounted at `/scim/v2`, on an empty store, as a vendor suite expects. */
export async function startScimServer(
  options: { port?: number; store?: DirectoryStore } = {},
): Promise<RunningScimServer> {
  const store = options.store ?? new MemoryDirectoryStore();
  const directory = await createDirectory(store, { tenantId: 'conformance', name: 'Conformance suite' });
  const { token } = await issueDirectoryToken(store, directory.id, { label: 'suite' });
  const app = express();
  let handler: ScimNodeHandler | null = null;
  app.use('/scim/v2', (req, res, next) => handler!(req, res, next));
  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/scim/v2`;
  handler = createScimNodeHandler(createScimService({ store, baseUrl: url }));
  return {
    url,
    port,
    token,
    store,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
