import type { Connection, DirectoryRecord } from '@jit-sso/core';
import { authenticated } from './auth.js';
import { createServiceContext, pathSegments, type Context, type ServiceContext } from './context.js';
import { checkBody } from './limits.js';
import { toResponse } from './responses.js';
import { discovery, route } from './routing.js';
import { createScimAuthThrottle } from './throttle.js';
import type { ScimRequest, ScimResponse, ScimService, ScimServiceOptions } from './types.js';

export type { ScimRequest, ScimResponse, ScimService, ScimServiceOptions } from './types.js';

async function contextOf(service: ServiceContext, directory: DirectoryRecord): Promise<Context> {
  let connection: Connection | null = null;
  if (directory.connectionId && service.provisioner)
    connection = await service.provisioner.getConnection(directory.connectionId);
  return { directory, connection };
}

/** Builds the HTTP-agnostic SCIM 2.0 service. Options are checked here, once. */
export function createScimService(options: ScimServiceOptions): ScimService {
  if (!options || typeof options.store?.directoryTransaction !== 'function') {
    throw new TypeError('createScimService needs a store that implements DirectoryStore.');
  }
  if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
    throw new TypeError(
      'createScimService needs baseUrl, the absolute URL of the SCIM base (e.g. https://app.example.com/scim/v2).',
    );
  }
  const service = createServiceContext(options);
  const throttle = options.authThrottle === false ? null : (options.authThrottle ?? createScimAuthThrottle());

  async function handle(request: ScimRequest): Promise<ScimResponse> {
    try {
      const segments = pathSegments(request.path);
      const known = discovery(service, request, segments);
      if (known) return known;
      const directory = await authenticated(service, throttle, request);
      // Before anything walks the body recursively (PATCH, rendering, serialising).
      checkBody(request.body);
      return await route(service, await contextOf(service, directory), request, segments);
    } catch (error) {
      return toResponse(service, error, request);
    }
  }

  return Object.freeze({ handle, limits: service.limits });
}
