import { createHash } from 'node:crypto';
import type { AuditEvent, Change, Connection, IdentityRecord, UserRecord } from '@jit-sso/core';
import { displayNameOf } from './config.js';
import { Html, html } from './html.js';

const STYLE = `
:root { color-scheme: light; --ink:#18212f; --muted:#5b6577; --line:#dde3ec; --accent:#1d5fd1; --bad:#b42318; --ok:#067647; --warn:#b54708; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background:#f4f6fa; }
header { background:#0f2a57; color:#fff; padding: 10px 24px; display:flex; gap:20px; align-items:center; }
header a { color:#dbe6ff; text-decoration:none; } header strong { font-size:17px; margin-right:12px; }
header .who { margin-left:auto; color:#dbe6ff; }
header form { display:inline; margin:0; }
header button { background:none; color:#dbe6ff; padding:0; margin:0; border-radius:0; }
main { max-width: 1200px; margin: 24px auto; padding: 0 24px; }
h1 { font-size: 26px; margin: 8px 0 16px; } h2 { font-size: 18px; margin: 0 0 8px; }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 20px; margin:14px 0; }
.muted, small { color: var(--muted); }
.button, button { display:inline-block; font: inherit; border:0; border-radius:8px; padding:9px 18px; background: var(--accent); color:#fff; cursor:pointer; text-decoration:none; margin: 4px 8px 4px 0; }
.button.secondary, button.secondary { background:#e8edf5; color: var(--ink); }
.tag { display:inline-block; background:#e4edff; color:#173f8a; border-radius:999px; padding:0 9px; margin-right:4px; font-size:13px; }
.action { font-weight:600; text-transform: uppercase; letter-spacing:.04em; }
.action-created, .ok { color: var(--ok); } .action-linked { color: var(--accent); } .action-updated { color: var(--warn); }
.action-denied, .action-deactivated, .bad { color: var(--bad); }
table { border-collapse: collapse; width:100%; font-size:14px; } td, th { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color: var(--muted); font-weight:600; } td.when { white-space: nowrap; } td.changes { min-width: 300px; }
dl { display:grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin:0; } dt { color: var(--muted); } dd { margin:0; }
code { background:#eef1f6; padding:1px 5px; border-radius:4px; font-size: 13px; }
.error { border-left: 5px solid var(--bad); }
.error .code { font: 600 15px ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--bad); }
`;

// Built outside the page template so that its text, and so its hash, stays exactly `STYLE`.
const STYLE_ELEMENT = new Html(`<style>${STYLE}</style>`);

/** The Content-Security-Policy source that allows the pages' one inline stylesheet. */
export const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

export interface Viewer {
  email: string;
  roles: readonly string[];
}

export function layout(title: string, viewer: Viewer | null, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · jit-sso sample</title>
        ${STYLE_ELEMENT}
      </head>
      <body>
        <header>
          <strong>jit-sso sample</strong><a href="/">Home</a><a href="/profile">Profile</a
          ><a href="/admin">Admin</a><a href="/portal">SSO setup</a>
          <span class="who"
            >${
              viewer
                ? html`${viewer.email} ·
                    <form method="post" action="/logout"><button type="submit">Sign out</button></form>`
                : 'not signed in'
            }</span
          >
        </header>
        <main>${body}</main>
      </body>
    </html>`.value;
}

export function loginUrl(connection: Connection): string {
  return `/auth/${connection.protocol}/${encodeURIComponent(connection.id)}/login`;
}

export function homePage(options: {
  viewer: Viewer | null;
  connections: readonly Connection[];
  scimUrl: string;
  idpUrl: string | null;
}): string {
  const { viewer } = options;
  return layout(
    'Home',
    viewer,
    html`<h1>Sign in with your organisation</h1>
      ${viewer ? html`<p class="card">You are signed in as <strong>${viewer.email}</strong>. <a href="/profile">See your profile</a>.</p>` : ''}
      <div class="card">
        <h2>Single sign-on</h2>
        <p class="muted">
          Each button starts a sign-in at one connection's identity provider. The first sign-in creates your
          account just in time; later sign-ins update it from the identity provider.
        </p>
        ${options.connections.map(
          (c) =>
            html`<a class="button" href="${loginUrl(c)}" data-connection="${c.id}"
              >Sign in with SSO — ${displayNameOf(c)}</a
            >`,
        )}
      </div>
      ${
        options.idpUrl
          ? html`<div class="card">
              <h2>Test people</h2>
              <p>
                The local identity providers run at <a href="${options.idpUrl}">${options.idpUrl}</a>. Change
                a person's groups or deactivate them on its
                <a href="${options.idpUrl}/admin">people admin page</a>, then sign in again.
              </p>
            </div>`
          : ''
      }
      <div class="card">
        <h2>SCIM 2.0</h2>
        <p>Base URL <code>${options.scimUrl}</code>, with the demo bearer token printed at start.</p>
      </div>`,
  );
}

function changeList(changes: readonly Change[]): Html {
  if (!changes.length) return html`<span class="muted">no changes</span>`;
  return html`${changes.map(
    (c) => html`<div><code>${c.field}</code> ${formatValue(c.from)} → ${formatValue(c.to)}</div>`,
  )}`;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}

function when(date: Date | null): string {
  return date
    ? date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
    : '—';
}

/** `who` names the user of each event (admin page); without it the column is left out. */
function auditTable(events: readonly AuditEvent[], who?: (event: AuditEvent) => string): Html {
  const withUser = who !== undefined;
  if (!events.length) return html`<p class="muted">No events yet.</p>`;
  return html`<table class="audit">
    <thead>
      <tr>
        <th>When</th>
        <th>Action</th>
        <th>By</th>
        <th>Connection</th>
        ${withUser ? html`<th>User</th>` : ''}
        <th>Reason</th>
        <th>Changes</th>
      </tr>
    </thead>
    <tbody>
      ${events.map(
        (e) =>
          html`<tr data-action="${e.action}">
            <td class="when">${when(e.at)}</td>
            <td><span class="action action-${e.action}">${e.action}</span></td>
            <td>${e.actor}</td>
            <td>${e.connectionId ?? '—'}</td>
            ${who ? html`<td>${who(e)}</td>` : ''}
            <td>${e.reason ? html`<code>${e.reason}</code>` : '—'}</td>
            <td class="changes">${changeList(e.changes)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export interface LastLogin {
  action: 'created' | 'linked' | 'updated' | 'unchanged';
  connectionId: string;
  changes: Change[];
  at: string;
}

export function profilePage(options: {
  user: UserRecord;
  roles: readonly string[];
  lastLogin: LastLogin | null;
  identities: readonly IdentityRecord[];
  audit: readonly AuditEvent[];
}): string {
  const { user, lastLogin } = options;
  const name =
    typeof user.attributes['displayName'] === 'string' ? user.attributes['displayName'] : user.email;
  return layout(
    'Profile',
    { email: user.email, roles: options.roles },
    html`<h1>${name}</h1>
      ${
        lastLogin
          ? html`<div class="card" id="last-login">
              <h2>This sign-in</h2>
              <p>
                Through <code>${lastLogin.connectionId}</code>, the account was
                <span class="action action-${lastLogin.action}" data-action="${lastLogin.action}"
                  >${lastLogin.action}</span
                >.
              </p>
              ${changeList(lastLogin.changes)}
            </div>`
          : ''
      }
      <div class="card" id="user" data-user-id="${user.id}">
        <h2>Account</h2>
        <dl>
          <dt>Email</dt>
          <dd data-field="email">${user.email}</dd>
          <dt>Roles</dt>
          <dd id="roles">
            ${options.roles.length ? options.roles.map((r) => html`<span class="tag" data-role="${r}">${r}</span>`) : html`<span class="muted">none</span>`}
          </dd>
          <dt>Status</dt>
          <dd data-field="status">${user.status}</dd>
          <dt>Created by</dt>
          <dd>${user.source}</dd>
          ${Object.entries(user.attributes).map(
            ([k, v]) =>
              html`<dt>${k}</dt>
                <dd data-field="${k}">${formatValue(v)}</dd>`,
          )}
          <dt>Created</dt>
          <dd>${when(user.createdAt)}</dd>
          <dt>Last sign-in</dt>
          <dd>${when(user.lastLoginAt)}</dd>
          <dt>User id</dt>
          <dd><code>${user.id}</code></dd>
        </dl>
      </div>
      <div class="card">
        <h2>Linked identities</h2>
        <table>
          <thead>
            <tr>
              <th>Connection</th>
              <th>Subject</th>
              <th>Linked</th>
            </tr>
          </thead>
          <tbody>
            ${options.identities.map(
              (i) =>
                html`<tr>
                  <td>${i.connectionId}</td>
                  <td><code>${i.subject}</code></td>
                  <td>${when(i.createdAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="card" id="audit">
        <h2>Audit trail</h2>
        ${auditTable(options.audit)}
      </div>`,
  );
}

export function adminPage(options: {
  viewer: Viewer;
  users: readonly UserRecord[];
  audit: readonly AuditEvent[];
}): string {
  const emails = new Map(options.users.map((u) => [u.id, u.email]));
  return layout(
    'Admin',
    options.viewer,
    html`<h1>Administration</h1>
      <div class="card" id="users">
        <h2>Users (${options.users.length})</h2>
        <table>
          <thead>
            <tr>
              <th>Email</th>
              <th>Status</th>
              <th>Source</th>
              <th>Roles</th>
              <th>Last sign-in</th>
            </tr>
          </thead>
          <tbody>
            ${options.users.map(
              (u) =>
                html`<tr data-email="${u.email}">
                  <td>${u.email}</td>
                  <td class="${u.status === 'active' ? 'ok' : 'bad'}">${u.status}</td>
                  <td>${u.source}</td>
                  <td>
                    ${[...new Set(u.roles.map((g) => g.role))].sort().map((r) => html`<span class="tag">${r}</span>`)}
                  </td>
                  <td>${when(u.lastLoginAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="card" id="audit">
        <h2>Audit events (latest first)</h2>
        ${auditTable(options.audit, (e) => (e.userId && emails.get(e.userId)) ?? (e.subject ? `subject ${e.subject}` : '—'))}
      </div>`,
  );
}

export function errorPage(options: {
  viewer: Viewer | null;
  status: number;
  code: string;
  message: string;
  hint: string;
}): string {
  const signIn = options.code === 'SESSION_ENDED' || options.status < 500;
  return layout(
    'Sign-in refused',
    options.viewer,
    html`<div class="card error" role="alert">
      <h1>${options.code === 'SESSION_ENDED' ? 'Session ended' : 'Sign-in refused'}</h1>
      <p class="code" id="error-code">${options.code}</p>
      <p id="error-message">${options.message}</p>
      <p><strong>What an administrator can fix:</strong> <span id="error-hint">${options.hint}</span></p>
      ${signIn ? html`<p><a class="button secondary" href="/">Back to sign-in</a></p>` : ''}
    </div>`,
  );
}

export function adminOnlyPage(viewer: Viewer, role: string): string {
  return layout(
    'Admin',
    viewer,
    html`<div class="card error" role="alert">
      <h1>Administrators only</h1>
      <p>This page needs the <code>${role}</code> role. Your roles: ${viewer.roles.join(', ') || 'none'}.</p>
      <p class="muted">
        Roles come from the identity provider's groups: put the person in <code>acme-admins</code> and sign in
        again.
      </p>
    </div>`,
  );
}

/** `GET /logout`: signing out changes state, so it takes this page's button (a POST). */
export function signOutPage(viewer: Viewer | null): string {
  return layout(
    'Sign out',
    viewer,
    html`<div class="card">
      <h1>Sign out</h1>
      ${
        viewer
          ? html`<form method="post" action="/logout"><button type="submit">Sign out</button></form>`
          : html`<p>You are not signed in. <a href="/">Back to sign-in</a></p>`
      }
    </div>`,
  );
}
