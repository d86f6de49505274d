import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { ProvisioningResult, UserRecord } from '@jit-sso/core';
import {
  isAdminError,
  TEST_SIGN_IN_RELAY_STATE,
  type AdminCaller,
  type AdminService,
  type ConnectionView,
  type DomainView,
  type MappingPreview,
  type TracedAttempt,
  type TxtResolver,
} from '@jit-sso/protocol';
import type { Html } from './html.js';
import { html } from './html.js';
import { layout, type Viewer } from './pages.js';

/**
 * The demo DNS zone: the sample resolves domain challenges here instead of the public DNS, and the
 * portal's "publish" button stands in for the administrator's DNS provider.
 */
export class DemoDns implements TxtResolver {
  private readonly records = new Map<string, string[]>();
  publish(name: string, value: string): void {
    this.records.set(name.toLowerCase(), [...(this.records.get(name.toLowerCase()) ?? []), value]);
  }
  async resolveTxt(name: string): Promise<string[][]> {
    const found = this.records.get(name.toLowerCase());
    if (!found) throw Object.assign(new Error(`no TXT record at ${name}`), { code: 'ENOTFOUND' });
    return found.map((value) => [value]);
  }
}

export interface PortalOptions {
  admin: AdminService;
  dns: DemoDns;
  /** The local IdP's metadata URL, offered in the form. */
  idpMetadataUrl: string | null;
  /** Registers the app at the local IdP, as the customer's IdP administrator would paste the SP values. */
  registerAtIdp?: (sp: { entityId: string; acsUrls: string[] }) => void;
  /** Who may use the portal: an administrator of their own tenant. */
  role: string;
  viewerOf(req: Request): Viewer | null;
}

interface PortalState {
  connections: ConnectionView[];
  domains: DomainView[];
  attempts: Map<string, TracedAttempt[]>;
  notice: Html | null;
  preview: { connection: string; preview: MappingPreview } | null;
}

/** The admin portal a customer's IT administrator uses to set up their organisation's SSO. */
export function portalRouter(options: PortalOptions): Router {
  const { admin } = options;
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '256kb' });

  const callerOf = (req: Request): AdminCaller => {
    const user = req.user as UserRecord;
    return { actor: user.email, tenantId: user.tenantId };
  };
  const onlyAdmins: RequestHandler = (req, res, next) => {
    const viewer = options.viewerOf(req);
    if (!viewer) return res.redirect(303, '/');
    if (!viewer.roles.includes(options.role)) {
      res
        .status(403)
        .type('html')
        .send(
          layout(
            'SSO setup',
            viewer,
            html`<h1>SSO setup</h1>
              <p>Only administrators of the organisation.</p>`,
          ),
        );
      return;
    }
    next();
  };

  async function render(req: Request, res: Response, extra: Partial<PortalState> = {}, status = 200) {
    const caller = callerOf(req);
    const connections = await admin.listConnections(caller);
    const attempts = new Map<string, TracedAttempt[]>();
    for (const c of connections) attempts.set(c.id, await admin.recentAttempts(caller, c.id, 10));
    const state: PortalState = {
      connections,
      domains: await admin.listDomains(caller),
      attempts,
      notice: null,
      preview: null,
      ...extra,
    };
    res
      .status(status)
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(portalPage(options, options.viewerOf(req)!, caller, state));
  }

  /** Runs a change; a refusal is shown on the page with its code and hint. */
  const act =
    (work: (req: Request, caller: AdminCaller) => Promise<Partial<PortalState> | void>): RequestHandler =>
    async (req, res, next) => {
      try {
        const extra = (await work(req, callerOf(req))) ?? {};
        await render(req, res, extra);
      } catch (error) {
        if (!isAdminError(error)) return next(error);
        try {
          await render(
            req,
            res,
            {
              notice: html`<div class="card error" id="portal-error">
                <p class="code">${error.code}</p>
                <p>${error.message}</p>
                ${error.hint ? html`<p><strong>What to do:</strong> ${error.hint}</p>` : ''}
              </div>`,
            },
            error.httpStatus,
          );
        } catch (failure) {
          next(failure);
        }
      }
    };
  const field = (req: Request, name: string) => {
    const value = (req.body as Record<string, unknown> | undefined)?.[name];
    return typeof value === 'string' ? value.trim() : '';
  };

  router.use(onlyAdmins);
  router.get(
    '/',
    act(async () => undefined),
  );

  router.post(
    '/connections',
    form,
    act(async (req, caller) => {
      const { connection, report } = await admin.createSamlConnection(caller, {
        id: field(req, 'id'),
        displayName: field(req, 'displayName') || undefined,
        metadataUrl: field(req, 'metadataUrl'),
        jit: { defaultRoles: ['viewer'] },
      });
      const sp = connection.serviceProvider;
      if (field(req, 'metadataUrl') === options.idpMetadataUrl) {
        options.registerAtIdp?.({ entityId: sp.entityId!, acsUrls: [sp.acsUrl!] });
      }
      return {
        notice: html`<div class="card" id="portal-notice">
          <p class="ok">Connection <code>${connection.id}</code> created (signature: ${report.signature}).</p>
          ${report.warnings.map((w) => html`<p class="bad">${w}</p>`)}
        </div>`,
      };
    }),
  );

  router.post(
    '/domains',
    form,
    act(async (req, caller) => {
      await admin.claimDomain(caller, { domain: field(req, 'domain') });
    }),
  );
  router.post(
    '/domains/:domain/publish',
    act(async (req, caller) => {
      const claim = (await admin.listDomains(caller)).find((d) => d.domain === req.params['domain']);
      if (claim) options.dns.publish(claim.dns.name, claim.dns.value);
    }),
  );
  router.post(
    '/domains/:domain/verify',
    act(async (req, caller) => {
      await admin.verifyDomain(caller, String(req.params['domain']));
    }),
  );

  const draftRules = (req: Request, current: ConnectionView) => {
    const group = field(req, 'group');
    const role = field(req, 'role');
    return group && role ? [...current.jit.roleRules, { group, roles: [role] }] : [...current.jit.roleRules];
  };
  router.post(
    '/connections/:id/rules',
    form,
    act(async (req, caller) => {
      const id = String(req.params['id']);
      const current = await admin.getConnection(caller, id);
      const roleRules = draftRules(req, current);
      if (field(req, 'intent') === 'preview') {
        return {
          preview: {
            connection: id,
            preview: await admin.previewMapping(caller, id, { jit: { roleRules } }),
          },
        };
      }
      await admin.updateConnection(caller, id, { expectedVersion: current.version, jit: { roleRules } });
      return undefined;
    }),
  );

  return router;
}

/** The answer of the ACS route to a test sign-in: the decision, and no session. */
export function testSignInPage(viewer: Viewer | null, result: ProvisioningResult): string {
  return layout(
    'Test sign-in',
    viewer,
    html`<h1>Test sign-in</h1>
      <div class="card" id="test-result">
        <p>The connection works. A real sign-in would have:</p>
        <dl>
          <dt>Decision</dt>
          <dd>
            <span class="action action-${result.action}" data-action="${result.action}"
              >${result.action}</span
            >
          </dd>
          <dt>Email</dt>
          <dd>${result.user.email}</dd>
          <dt>Roles</dt>
          <dd id="test-roles">
            ${result.roles.map((r) => html`<span class="tag" data-role="${r}">${r}</span>`)}
          </dd>
        </dl>
        <p class="muted">Nothing was written and nobody was signed in.</p>
        <p><a class="button" href="/portal">Back to SSO setup</a></p>
      </div>`,
  );
}

function portalPage(options: PortalOptions, viewer: Viewer, caller: AdminCaller, state: PortalState): string {
  return layout(
    'SSO setup',
    viewer,
    html`<h1>SSO setup for <code>${caller.tenantId}</code></h1>
      ${state.notice ?? ''}
      <div class="card" id="new-connection">
        <h2>Add a SAML connection</h2>
        <form method="post" action="/portal/connections">
          <dl>
            <dt><label for="id">Connection id</label></dt>
            <dd><input id="id" name="id" value="${caller.tenantId}-okta" size="30" /></dd>
            <dt><label for="displayName">Name</label></dt>
            <dd>
              <input id="displayName" name="displayName" value="${caller.tenantId} (portal)" size="30" />
            </dd>
            <dt><label for="metadataUrl">IdP metadata URL</label></dt>
            <dd>
              <input id="metadataUrl" name="metadataUrl" value="${options.idpMetadataUrl ?? ''}" size="60" />
            </dd>
          </dl>
          <button type="submit">Create from metadata</button>
        </form>
      </div>
      <div class="card" id="domains">
        <h2>Email domains</h2>
        <p class="muted">
          New accounts are created, and existing ones linked by email, only for domains your organisation has
          proven it owns with a DNS TXT record.
        </p>
        <table>
          <thead>
            <tr>
              <th>Domain</th>
              <th>Status</th>
              <th>TXT record to publish</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${state.domains.map(
              (d) =>
                html`<tr data-domain="${d.domain}">
                  <td>${d.domain}</td>
                  <td class="${d.status === 'verified' ? 'ok' : 'bad'}" data-status="${d.status}">
                    ${d.status}
                  </td>
                  <td><code>${d.dns.name}</code><br /><code>${d.dns.value}</code></td>
                  <td>
                    ${
                      d.status === 'verified'
                        ? ''
                        : html`<form method="post" action="/portal/domains/${d.domain}/publish">
                              <button class="secondary" type="submit">Publish in demo DNS</button>
                            </form>
                            <form method="post" action="/portal/domains/${d.domain}/verify">
                              <button type="submit">Verify</button>
                            </form>`
                    }
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
        <form method="post" action="/portal/domains">
          <input name="domain" placeholder="acme.com" aria-label="Domain" />
          <button type="submit">Claim domain</button>
        </form>
      </div>
      ${state.connections.map((c) => connectionCard(c, state))}`,
  );
}

function connectionCard(c: ConnectionView, state: PortalState): Html {
  const attempts = state.attempts.get(c.id) ?? [];
  const preview = state.preview?.connection === c.id ? state.preview.preview : null;
  return html`<div class="card connection" data-connection="${c.id}">
    <h2>${c.displayName ?? c.id} <small>(${c.protocol}, version ${c.version})</small></h2>
    <dl>
      <dt>Issuer</dt>
      <dd>${c.issuer}</dd>
      ${
        c.serviceProvider.acsUrl
          ? html`<dt>ACS URL</dt>
              <dd><code>${c.serviceProvider.acsUrl}</code></dd>
              <dt>Entity id</dt>
              <dd><code>${c.serviceProvider.entityId}</code></dd>`
          : html`<dt>Redirect URI</dt>
              <dd><code>${c.serviceProvider.redirectUri}</code></dd>`
      }
      ${(c.saml?.certificates ?? []).map(
        (cert) =>
          html`<dt>Certificate (${cert.role})</dt>
            <dd>
              ${cert.subject}, ${cert.status}, until
              ${cert.validTo.slice(0, 10)}${cert.acceptedUntil ? html`, accepted until ${cert.acceptedUntil.slice(0, 10)}` : ''}
            </dd>`,
      )}
      <dt>Verified domains</dt>
      <dd>
        ${c.verifiedDomains.length ? c.verifiedDomains.join(', ') : html`<span class="bad">none yet</span>`}
      </dd>
      <dt>Group → role rules</dt>
      <dd class="rules">
        ${
          c.jit.roleRules.length
            ? c.jit.roleRules.map(
                (r) =>
                  html`<span class="tag" data-rule="${r.group}">${r.group} → ${r.roles.join(', ')}</span>`,
              )
            : html`<span class="muted"
                >none (default roles: ${c.jit.defaultRoles.join(', ') || 'none'})</span
              >`
        }
      </dd>
    </dl>
    <form method="post" action="/portal/connections/${c.id}/rules">
      <input name="group" placeholder="IdP group" aria-label="Group" />
      <input name="role" placeholder="role" aria-label="Role" />
      <button class="secondary" type="submit" name="intent" value="preview">Preview</button>
      <button type="submit" name="intent" value="save">Save rule</button>
    </form>
    ${
      preview
        ? html`<div class="preview" id="preview">
            <p>
              The last sign-in (<code>${preview.sample.subject}</code>) would now map to:
              <strong data-outcome="${preview.outcome}">${preview.outcome}</strong>, groups
              ${preview.groups.map((g) => html`<span class="tag">${g}</span>`)} roles
              ${(preview.roles ?? []).map((r) => html`<span class="tag" data-role="${r}">${r}</span>`)}
            </p>
          </div>`
        : ''
    }
    <p>
      <a
        class="button secondary"
        href="/auth/${c.protocol}/${c.id}/login?RelayState=${encodeURIComponent(TEST_SIGN_IN_RELAY_STATE)}"
        data-test-sign-in="${c.id}"
        >Test sign-in</a
      >
    </p>
    <h3>Recent sign-in attempts</h3>
    <table class="attempts">
      <thead>
        <tr>
          <th>When</th>
          <th>Subject</th>
          <th>Decision</th>
          <th>Attributes received</th>
        </tr>
      </thead>
      <tbody>
        ${attempts.map(
          (a) =>
            html`<tr data-outcome="${a.outcome}">
              <td class="when">${a.at.toISOString().replace('T', ' ').slice(0, 19)}</td>
              <td>${a.subject ?? '—'}</td>
              <td class="${a.ok ? 'ok' : 'bad'}">
                ${a.outcome}${a.test ? ' (test)' : ''}${a.hint ? html`<br /><small>${a.hint}</small>` : ''}
              </td>
              <td>
                ${Object.entries(a.attributes).map(([k, v]) => html`<code>${k}</code>: ${v.join(', ')}<br />`)}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
