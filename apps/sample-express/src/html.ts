// The escaping HTML template the local IdP's pages use, so that both apps escape alike.
export { escapeHtml, Html, html } from '@jit-sso/dev-idp/html';
