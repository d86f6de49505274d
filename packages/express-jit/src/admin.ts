import { Router, type Request } from 'express';
import {
  createAdminNodeHandler,
  type AdminCaller,
  type AdminNodeHandlerOptions,
  type AdminService,
} from '@jit-sso/protocol';

export interface AdminRouterOptions extends Pick<AdminNodeHandlerOptions, 'maxBodyBytes' | 'logger'> {
  /**
   * Who is calling and which tenant they administer, from the app's own session or token; `null`
   * answers 401. The app decides who may administer a tenant.
   */
  caller(req: Request): AdminCaller | null | Promise<AdminCaller | null>;
}

/**
 * The admin service of `@jit-sso/protocol` (self-serve SSO onboarding) as a JSON API under an
 * Express mount point (`app.use('/admin/api', adminRouter(admin, { caller }))`). Refusals answer
 * `{ error: { code, message, hint, details } }` with the code's status; a request body must be
 * `application/json`. What fails around the service goes to the app's error handlers.
 */
export function adminRouter(service: AdminService, options: AdminRouterOptions): Router {
  const handler = createAdminNodeHandler<Request>(service, options);
  const router = Router();
  router.use((req, res, next) => void handler(req, res, next));
  return router;
}
