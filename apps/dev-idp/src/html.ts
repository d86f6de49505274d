/** HTML that is already safe to insert. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

/** Tagged template: interpolated values are escaped unless they are `Html`. */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0] ?? '';
  parts.forEach((part, i) => {
    out += render(part) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const STYLE = `
:root { color-scheme: light; --ink:#1f2430; --muted:#5d6475; --line:#dfe3ea; --accent:#7a3db8; --bad:#b42318; --ok:#067647; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background:#f6f4fa; }
header { background: var(--accent); color:#fff; padding: 10px 24px; display:flex; gap:24px; align-items:center; }
header a { color:#fff; text-decoration:none; opacity:.9 } header strong { font-size:17px; }
main { max-width: 880px; margin: 24px auto; padding: 0 24px; }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 20px; margin:12px 0; }
.people { display:grid; gap:10px; } .people .card { margin:0; }
.person { display:flex; justify-content:space-between; align-items:center; gap:16px; }
.person small, .muted { color: var(--muted); }
button { white-space: nowrap; font: inherit; border:0; border-radius:8px; padding:8px 16px; background: var(--accent); color:#fff; cursor:pointer; }
button.secondary { background:#eee; color: var(--ink); }
button:disabled { background:#ccc; cursor:not-allowed; }
.tag { display:inline-block; background:#efe7f8; color:#4b2275; border-radius:999px; padding:0 8px; margin-right:4px; font-size:13px; }
.bad { color: var(--bad); } .ok { color: var(--ok); }
table { border-collapse: collapse; width:100%; } td, th { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
label { margin-right: 12px; white-space: nowrap; }
code { background:#f0eef4; padding:1px 4px; border-radius:4px; }
`;

export function page(title: string, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Dev IdP</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <strong>Dev IdP</strong><a href="/">Home</a><a href="/admin">People admin</a>
          <span class="muted" style="color:#e9dcf7">local test identity provider — not for production</span>
        </header>
        <main>${body}</main>
      </body>
    </html>`.value;
}
