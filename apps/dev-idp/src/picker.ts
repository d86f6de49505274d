import { html, page } from './html.js';
import { displayName, type TestPerson } from './people.js';

/** The login page: instead of a password, pick the person you are. */
export function pickerPage(options: {
  protocol: 'OIDC' | 'SAML';
  app: string;
  action: string;
  hidden: Record<string, string>;
  people: readonly TestPerson[];
}): string {
  const rows = options.people.map(
    (person) =>
      html`<div class="card person" data-person="${person.id}">
        <div>
          <strong>${displayName(person)}</strong>
          <span class="muted">&lt;${person.email}&gt;</span>
          ${options.protocol === 'OIDC' && !person.emailVerified ? html`<span class="tag bad">email not verified</span>` : ''}
          ${person.active ? '' : html`<span class="tag bad">deactivated</span>`}<br />
          <small
            >groups:
            ${person.groups.length ? person.groups.map((g) => html`<span class="tag">${g}</span>`) : 'none'} —
            ${person.note}</small
          >
        </div>
        <form method="post" action="${options.action}">
          ${Object.entries(options.hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)}
          <button name="person" value="${person.id}" ${person.active ? '' : html` disabled`}>
            Sign in as ${person.givenName}
          </button>
        </form>
      </div>`,
  );
  return page(
    'Sign in',
    html`<h1>Sign in to ${options.app}</h1>
      <p class="muted">
        ${options.protocol} identity provider. Pick who you are; there are no passwords. Change a person's
        groups or deactivate them on the <a href="/admin">people admin</a> page.
      </p>
      <div class="people">${rows}</div>`,
  );
}

export function refusalPage(person: TestPerson | null): string {
  return page(
    'Refused',
    html`<div class="card">
      <h1 class="bad">Sign-in refused by the identity provider</h1>
      <p>
        ${person ? html`${displayName(person)} is deactivated at the identity provider.` : 'No such person.'}
      </p>
      <p><a href="/admin">People admin</a></p>
    </div>`,
  );
}
