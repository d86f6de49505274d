import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { JitError, type JitErrorCode } from '@jit-sso/core';
import type { E2eEnvironment } from '../environment.js';
import type { Browser } from '../browser.js';
import { readForm, type BrowserResponse } from '../browser.js';
import type { SamlIdpUser, SamlResponseOptions, AuthnRequestInfo } from '../saml-idp.js';
import { encodeResponse } from '../saml-idp.js';

export interface SuiteContext {
  readonly env: E2eEnvironment;
  readonly baseUrl: string;
}

export interface TestPerson {
  key: string;
  subject: string;
  email: string;
}

/** A person nobody has used yet (unique subject and email). */
export function newPerson(domain = 'acme.test', prefix = 'user'): TestPerson {
  const tag = randomBytes(5).toString('hex');
  return {
    key: `${prefix}-${tag}`,
    subject: `${prefix}-${tag}-subject`,
    email: `${prefix}.${tag}@${domain}`,
  };
}

export function samlUser(
  person: TestPerson,
  attributes: Record<string, string | string[]> = {},
  nameIDFormat?: string,
): SamlIdpUser {
  return {
    nameID: person.subject,
    ...(nameIDFormat ? { nameIDFormat } : {}),
    attributes: { email: person.email, givenName: 'Test', sn: 'Person', ...attributes },
  };
}

export interface SamlLogin {
  response: BrowserResponse;
  request: AuthnRequestInfo;
  /** The form fields posted to the ACS (to replay them). */
  posted: Record<string, string>;
}

/** Starts a SAML login at the app and returns the IdP's view of the request. */
export async function startSamlLogin(
  ctx: SuiteContext,
  browser: Browser,
  connectionId: string,
): Promise<AuthnRequestInfo> {
  const start = await browser.get(`${ctx.baseUrl}/auth/saml/${connectionId}/login`);
  expect(start.status, start.body).toBeGreaterThanOrEqual(300);
  expect(start.status).toBeLessThan(400);
  expect(start.location).toMatch(new RegExp(`^${ctx.env.saml.ssoUrlFor(connectionId)}\\?`));
  return ctx.env.saml.requestFromRedirect(start.location!);
}

/** A whole SAML login as a browser makes it: app → IdP login form → auto-posted response → ACS. */
export async function samlLogin(
  ctx: SuiteContext,
  browser: Browser,
  connectionId: string,
  user: SamlIdpUser,
): Promise<SamlLogin> {
  const start = await browser.get(`${ctx.baseUrl}/auth/saml/${connectionId}/login`);
  expect(start.location).toBeTruthy();
  const request = ctx.env.saml.requestFromRedirect(start.location!);
  const loginPage = await browser.get(start.location!);
  const login = readForm(loginPage.body);
  const key = `${connectionId}:${user.nameID}`;
  ctx.env.saml.users.set(key, user);
  const autoPost = await browser.post(login.action, { ...login.fields, user: key });
  expect(autoPost.status, autoPost.body).toBe(200);
  const form = readForm(autoPost.body);
  const response = await browser.post(form.action, form.fields, { json: true });
  return { response, request, posted: form.fields };
}

/** A SAML login whose response the test builds (for the attacks). */
export async function samlLoginWith(
  ctx: SuiteContext,
  browser: Browser,
  connectionId: string,
  options: Omit<SamlResponseOptions, 'request'>,
  edit: (xml: string) => string = (xml) => xml,
): Promise<SamlLogin> {
  const request = await startSamlLogin(ctx, browser, connectionId);
  const xml = edit(ctx.env.saml.createResponse({ request, ...options }));
  const posted = { SAMLResponse: encodeResponse(xml), RelayState: request.relayState };
  const response = await browser.post(request.acsUrl, posted, { json: true });
  return { response, request, posted };
}

export async function me(ctx: SuiteContext, browser: Browser): Promise<BrowserResponse> {
  return browser.get(`${ctx.baseUrl}/me`, { json: true });
}

export interface MeBody {
  user: { id: string; email: string; tenantId: string; attributes: Record<string, unknown>; status: string };
  roles: string[];
}

/** The login ended in a session for `email`; returns `/me`. */
export async function expectSignedIn(
  ctx: SuiteContext,
  browser: Browser,
  login: BrowserResponse,
  email: string,
): Promise<MeBody> {
  expect(login.status, login.body).toBeGreaterThanOrEqual(300);
  expect(login.status).toBeLessThan(400);
  const answer = await me(ctx, browser);
  expect(answer.status, answer.body).toBe(200);
  const body = answer.json<MeBody>();
  expect(body.user.email).toBe(email);
  return body;
}

/** The answer is the error a user sees for `code`. */
export function expectRefused(response: BrowserResponse, code: JitErrorCode): void {
  expect(response.status, response.body).toBe(new JitError(code, '').httpStatus);
  const body = response.json<{ error: { code: string; message: string; hint: string } }>();
  expect(body.error.code).toBe(code);
  expect(body.error.message).toBeTruthy();
  expect(body.error.hint).toBeTruthy();
  // No internals: no stack, no XML, no token.
  expect(response.body).not.toMatch(/at .*\.(ts|js):\d+|<saml|eyJ/);
}

/**
 * The instant to read audit events from, once the clock has passed every event written so far:
 * audit times have millisecond precision, and an event written in the millisecond a test starts in
 * must not count as the test's own.
 */
export async function auditMark(): Promise<Date> {
  const start = Date.now();
  while (Date.now() <= start) await new Promise((resolve) => setTimeout(resolve, 1));
  return new Date();
}

/** Nothing exists for this person, and a denial with `code` was audited since `since`. */
export async function expectNothingCreated(
  ctx: SuiteContext,
  person: TestPerson,
  where: { tenantId: string; connectionId: string },
  code: JitErrorCode,
  since: Date,
): Promise<void> {
  const { store } = ctx.env;
  expect(await store.findUserByEmail(where.tenantId, person.email)).toBeNull();
  expect(await store.findIdentity(where.connectionId, person.subject)).toBeNull();
  await expectDenialAudited(ctx, where, code, since);
}

export async function expectDenialAudited(
  ctx: SuiteContext,
  where: { tenantId: string; connectionId: string },
  code: JitErrorCode,
  since: Date,
): Promise<void> {
  const events = await ctx.env.store.listAuditEvents({ tenantId: where.tenantId, since, limit: 1000 });
  const denials = events.filter((e) => e.action === 'denied' && e.connectionId === where.connectionId);
  // Exactly one: the refusal is audited, and not twice by two layers.
  expect(
    denials.filter((e) => e.reason === code),
    JSON.stringify(denials.map((e) => e.reason)),
  ).toHaveLength(1);
}

export interface OidcLogin {
  /** The app's answer to the callback. */
  response: BrowserResponse;
  /** The authorization request URL the app redirected to. */
  authorizationUrl: URL;
  /** The callback URL the IdP redirected back to. */
  callbackUrl: string;
}

/**
 * A whole OIDC login through oidc-provider's own pages: app → authorization endpoint → login form →
 * consent form → callback. `editCallback` may change the callback URL before the browser follows it.
 */
export async function oidcLogin(
  ctx: SuiteContext,
  browser: Browser,
  connectionId: string,
  sub: string,
  editCallback: (url: URL) => URL = (url) => url,
): Promise<OidcLogin> {
  const start = await browser.get(`${ctx.baseUrl}/auth/oidc/${connectionId}/login`);
  expect(start.status, start.body).toBeGreaterThanOrEqual(300);
  expect(start.location).toMatch(new RegExp(`^${ctx.env.oidc.issuer}/`));
  const authorizationUrl = new URL(start.location!);
  let current = await browser.get(start.location!);
  let page = start.location!;
  for (let step = 0; step < 20; step++) {
    if (current.status >= 300 && current.status < 400 && current.location) {
      if (current.location.startsWith(ctx.baseUrl)) {
        const callbackUrl = editCallback(new URL(current.location)).href;
        const response = await browser.get(callbackUrl, { json: true });
        return { response, authorizationUrl, callbackUrl };
      }
      page = current.location;
      current = await browser.get(current.location);
      continue;
    }
    expect(current.status, current.body).toBe(200);
    const form = readForm(current.body);
    const action = new URL(form.action, page).href;
    const fields =
      form.fields['prompt'] === 'login' ? { ...form.fields, login: sub, password: 'test' } : form.fields;
    current = await browser.post(action, fields);
  }
  throw new Error('the OIDC login did not come back to the app');
}
