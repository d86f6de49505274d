import type { NestExpressApplication } from '@nestjs/platform-express';
import session from 'express-session';
import passport from 'passport';

/** Sessions hold the user id only; passport's serializer re-reads the user at each request. */
export function useSessions(app: NestExpressApplication): void {
  app.use(session({ secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false }));
  app.use(passport.initialize(), passport.session());
}
