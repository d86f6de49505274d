import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import session, { type Store } from 'express-session';
import { Passport } from 'passport';
import {
  consoleLogger,
  isJitError,
  logServerError,
  type Connection,
  type Provisioner,
  type UserRecord,
} from '@jit-sso/core';
import {
  createOidcStrategies,
  createSamlStrategy,
  jitErrorHandler,
  MemoryReplayCache,
  oidcAuthenticate,
  requireActiveUser,
  roleNames,
  samlAuthenticate,
  samlMetadata,
  useJitSession,
  type ReplayCache,
} from '@jit-sso/express';
import {
  adminOnlyPage,
  adminPage,
  errorPage,
  homePage,
  profilePage,
  signOutPage,
  type LastLogin,
  type Viewer,
} from './pages.js';
import { latestAuditEvents } from './audit.js';
import { portalRouter, testSignInPage, type PortalOptions } from './portal.js';
import { securityHeaders, SESSION_COOKIE, sessionCookie, trustProxyFor } from './security.js';

export interface SampleAppOptions {
  provisioner: Provisioner;
  /** The validated connections, in the order of the sign-in buttons. */
  connections: readonly Connection[];
  /** The app's own origin, e.g. `http://localhost:3000`. */
  publicUrl: string;
  /** A Node request handler serving SCIM 2.0, mounted at `/scim/v2`. */
  scim?: (req: Request, res: express.Response, next: express.NextFunction) => void;
  /** The local identity providers' origin, linked from the home page. */
  idpUrl?: string | null;
  /** The admin portal (`/portal`): a customer's IT administrator sets up their organisation's SSO. */
  portal?: Omit<PortalOptions, 'role' | 'viewerOf'>;
  /** SAML replay cache (default in memory: one process only). */
  replayCache?: ReplayCache;
  /** The session store (default express-session's memory store: one process only). */
  sessionStore?: Store;
  sessionSecret?: string;
}

declare module 'express-session' {
  interface SessionData {
    lastLogin?: LastLogin;
  }
}

export const ADMIN_ROLE = 'admin';

function viewerOf(req: Request): Viewer | null {
  const user = req.user as UserRecord | undefined;
  return user && typeof user.email === 'string' ? { email: user.email, roles: roleNames(user) } : null;
}

/**
 * An error the request itself caused: body-parser's 413/415/400 and the router's 400 for a bad
 * %-encoding carry a 4xx `status`. Its message is shown only when marked safe (`expose`, as
 * `http-errors` does), else the status text.
 */
function clientError(error: unknown): { status: number; message: string } | null {
  if (!error || typeof error !== 'object') return null;
  const { status, expose, message } = error as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return null;
  return {
    status,
    message:
      expose === true && typeof message === 'string' ? message : (STATUS_CODES[status] ?? 'Bad request'),
  };
}

/** `413` → `PAYLOAD_TOO_LARGE`. */
function codeOf(status: number): string {
  return (STATUS_CODES[status] ?? 'Bad Request').toUpperCase().replace(/[^A-Z]+/g, '_');
}

export function createSampleApp(options: SampleAppOptions): Express {
  const { provisioner } = options;
  const publicUrl = options.publicUrl.replace(/\/$/, '');
  const replayCache = options.replayCache ?? new MemoryReplayCache();
  const passport = new Passport();
  useJitSession(passport, provisioner);
  const samlStrategy = createSamlStrategy({ provisioner, replayCache });
  passport.use(samlStrategy);
  const oidcStrategies = createOidcStrategies({ provisioner });

  const app = express();
  app.disable('x-powered-by');
  trustProxyFor(app, publicUrl);
  app.use(securityHeaders(publicUrl));
  if (options.scim) app.use('/scim/v2', options.scim);

  app.use(
    session({
      name: SESSION_COOKIE,
      secret: options.sessionSecret ?? randomBytes(32).toString('base64url'),
      ...(options.sessionStore ? { store: options.sessionStore } : {}),
      resave: false,
      saveUninitialized: false,
      cookie: sessionCookie(publicUrl),
    }),
  );
  app.use(passport.initialize());
  app.use(passport.session());

  const afterLogin: RequestHandler = async (req, res, next) => {
    const test = res.locals.jitTestResult;
    if (test) {
      // A test sign-in from the portal: the decision, and nobody signed in.
      res
        .set('Cache-Control', 'no-store')
        .type('html')
        .send(testSignInPage(viewerOf(req), test));
      return;
    }
    try {
      req.session.lastLogin = (await lastLoginOf(req, res)) ?? undefined;
      req.session.save(() => res.redirect(303, '/profile'));
    } catch (error) {
      next(error);
    }
  };

  /** What this sign-in did: the provisioning result the adapter puts on `res.locals.jitResult`. */
  async function lastLoginOf(_req: Request, res: express.Response): Promise<LastLogin | null> {
    const result = res.locals.jitResult;
    if (result) {
      return {
        action: result.action,
        connectionId: result.connectionId,
        changes: [...result.changes],
        at: new Date().toISOString(),
      };
    }
    return null;
  }

  app.get('/auth/saml/:connection/login', samlAuthenticate(passport, { provisioner }));
  app.post(
    '/auth/saml/:connection/acs',
    express.urlencoded({ extended: false, limit: '512kb' }),
    samlAuthenticate(passport, { provisioner }),
    afterLogin,
  );
  app.get('/auth/saml/:connection/metadata', samlMetadata(samlStrategy, { provisioner }));
  app.get('/auth/oidc/:connection/login', oidcAuthenticate(passport, oidcStrategies, { provisioner }));
  app.get(
    '/auth/oidc/:connection/callback',
    oidcAuthenticate(passport, oidcStrategies, { provisioner }),
    afterLogin,
  );

  // A state change, so only by POST: a link or an image elsewhere must not sign anyone out.
  app.post('/logout', (req, res, next) => {
    req.logout((error) => {
      if (error) return next(error);
      req.session.destroy((destroyError) => {
        if (destroyError) return next(destroyError);
        res.clearCookie(SESSION_COOKIE, sessionCookie(publicUrl)).redirect(303, '/');
      });
    });
  });
  app.get('/logout', (req, res) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .type('html')
      .send(signOutPage(viewerOf(req)));
  });

  app.get('/', (req, res) => {
    res.type('html').send(
      homePage({
        viewer: viewerOf(req),
        connections: options.connections,
        scimUrl: `${publicUrl}/scim/v2`,
        idpUrl: options.idpUrl ?? null,
      }),
    );
  });

  const signedIn = requireActiveUser(provisioner);
  if (options.portal) {
    app.use('/portal', signedIn, portalRouter({ ...options.portal, role: ADMIN_ROLE, viewerOf }));
  }

  app.get('/profile', signedIn, async (req, res, next) => {
    try {
      const user = req.user as UserRecord;
      const [identities, audit] = await Promise.all([
        provisioner.store.listIdentitiesOfUser(user.id),
        latestAuditEvents(provisioner, { userId: user.id }, 50),
      ]);
      res.type('html').send(
        profilePage({
          user,
          roles: roleNames(user),
          lastLogin: req.session.lastLogin ?? null,
          identities,
          audit,
        }),
      );
    } catch (error) {
      next(error);
    }
  });

  app.get('/admin', signedIn, async (req, res, next) => {
    try {
      const viewer = viewerOf(req)!;
      if (!viewer.roles.includes(ADMIN_ROLE)) {
        res.status(403).type('html').send(adminOnlyPage(viewer, ADMIN_ROLE));
        return;
      }
      const user = req.user as UserRecord;
      const users = await provisioner.store.listUsers({ tenantId: user.tenantId, limit: 500 });
      const audit = await latestAuditEvents(provisioner, { tenantId: user.tenantId }, 100);
      res.type('html').send(adminPage({ viewer, users, audit }));
    } catch (error) {
      next(error);
    }
  });

  const json = jitErrorHandler();
  const showError: ErrorRequestHandler = (error, req, res, next) => {
    if (res.headersSent) return next(error);
    if (isJitError(error)) {
      if (req.accepts(['html', 'json']) === 'json') return json(error, req, res, next);
      // A dependency failed (the database, Redis): the page says so, the log says why.
      if (error.httpStatus >= 500) {
        logServerError(consoleLogger, error, {
          method: req.method,
          path: req.path,
          status: error.httpStatus,
        });
      }
      const { code, message, hint } = error.toJSON();
      res
        .status(error.httpStatus)
        .set('Cache-Control', 'no-store')
        .type('html')
        .send(errorPage({ viewer: viewerOf(req), status: error.httpStatus, code, message, hint }));
      return;
    }
    const refused = clientError(error);
    if (refused) {
      // The client's fault (a body over the limit, a malformed URL or body): a one-line warning, no stack.
      const { status, message } = refused;
      const code = codeOf(status);
      console.warn(`${req.method} ${req.path}: ${status} ${code}: ${message}`);
      res.status(status).set('Cache-Control', 'no-store');
      if (req.accepts(['html', 'json']) === 'json') {
        res.json({ error: { code, message } });
        return;
      }
      res.type('html').send(
        errorPage({
          viewer: viewerOf(req),
          status,
          code,
          message,
          hint: 'The request was malformed or too large; nothing was changed. Retry from the sign-in page.',
        }),
      );
      return;
    }
    console.error(error);
    res
      .status(500)
      .type('html')
      .send(
        errorPage({
          viewer: null,
          status: 500,
          code: 'INTERNAL_ERROR',
          message: 'Something went wrong in the sample app.',
          hint: 'See the server log.',
        }),
      );
  };
  app.use(showError);
  return app;
}
