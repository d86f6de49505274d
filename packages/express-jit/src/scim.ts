import { Router } from 'express';
import { createScimNodeHandler, type ScimNodeHandlerOptions, type ScimService } from '@jit-sso/scim';

/**
 * The SCIM 2.0 endpoint of `@jit-sso/scim` as an Express router: mount it at the SCIM base
 * (`app.use('/scim/v2', scimRouter(scim))`). It reads the raw request body itself, so
 * `application/scim+json` works and malformed JSON gets a SCIM error; a body `express.json()` already
 * parsed is used as it is. The service logs the failures it answers (`createScimService({ logger })`);
 * what fails around it goes to the app's error handlers.
 */
export function scimRouter(
  service: ScimService,
  options: Pick<ScimNodeHandlerOptions, 'maxBodyBytes'> = {},
): Router {
  const handler = createScimNodeHandler(service, options);
  const router = Router();
  router.use((req, res, next) => void handler(req, res, next));
  return router;
}
