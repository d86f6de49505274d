import express, { type Router } from 'express';
import { html, page } from './html.js';
import { displayName, type PeopleDirectory } from './people.js';

/**
 * The people admin page: change a person's groups or deactivate them. The change reaches the app at
 * the person's next sign-in (JIT), as it would with a real IdP.
 */
export function adminRouter(people: PeopleDirectory): Router {
  const router = express.Router();

  router.get('/', (req, res) => {
    const saved = typeof req.query['saved'] === 'string' ? people.get(req.query['saved']) : null;
    const known = people.groups();
    const rows = people.list().map((person) => {
      const extra = person.groups.filter((g) => !known.includes(g));
      return html`<tr data-person="${person.id}">
        <td>
          <strong>${displayName(person)}</strong><br /><small class="muted"
            >${person.email} · sub ${person.id}</small
          >
        </td>
        <td>
          <form method="post" action="/admin/people/${person.id}" id="form-${person.id}">
            ${known.map(
              (g) =>
                html`<label
                  ><input
                    type="checkbox"
                    name="groups"
                    value="${g}"
                    ${person.groups.includes(g) ? html` checked` : ''}
                  />
                  ${g}</label
                >`,
            )}
            <br /><input name="groups" placeholder="another group" value="${extra.join(', ')}" size="16" />
            <label
              ><input type="checkbox" name="active" value="true" ${person.active ? html` checked` : ''} />
              active</label
            >
            <button>Save</button>
          </form>
        </td>
        <td>
          ${person.active ? html`<span class="ok">active</span>` : html`<span class="bad">deactivated</span>`}
        </td>
      </tr>`;
    });
    res.type('html').send(
      page(
        'People',
        html`<h1>People at the identity providers</h1>
          ${saved ? html`<p class="card ok" role="status">Saved ${displayName(saved)}. The change reaches the app at their next sign-in.</p>` : ''}
          <p class="muted">Both the OIDC and the SAML identity provider serve these people.</p>
          <div class="card">
            <table>
              <thead>
                <tr>
                  <th>Person</th>
                  <th>Groups and status</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>
          </div>`,
      ),
    );
  });

  router.post('/people/:id', express.urlencoded({ extended: false }), (req, res) => {
    const id = String(req.params['id']);
    if (!people.get(id)) {
      res.status(404).type('text').send(`No test person "${id}".`);
      return;
    }
    const raw: unknown = req.body?.groups;
    const listed = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
    // The free-text box may hold several groups separated by commas.
    const groups = listed.flatMap((value) => value.split(','));
    people.update(id, { groups, active: req.body?.active === 'true' });
    res.redirect(303, `/admin?saved=${encodeURIComponent(id)}`);
  });

  return router;
}
