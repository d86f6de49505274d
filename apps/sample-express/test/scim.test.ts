import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareSample, startSample } from '../src/index.js';
import { Browser, textOf } from '@jit-sso/dev-idp/testing';

const dir = mkdtempSync(join(tmpdir(), 'jit-sample-scim-'));
const databaseUrl = `sqlite:${join(dir, 'sample.sqlite')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scimGet = (url: string, token: string) =>
  fetch(`${url}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });

describe('the demo SCIM directory', () => {
  it('answers 503 with Retry-After while the app starts, never leaving a request waiting', async () => {
    const prepared = await prepareSample({ port: 0, databaseUrl });
    try {
      // The port listens before the app exists: an IdP's request now must not hang.
      const early = await scimGet(prepared.url, prepared.scim.token);
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toBe('2');
      expect(await early.text()).toMatch(/starting/);
      prepared.attach((_req, res) => res.end('ready'));
      const later = await scimGet(prepared.url, prepared.scim.token);
      expect([later.status, await later.text()]).toEqual([200, 'ready']);
    } finally {
      await prepared.close();
    }
  });

  it('serves /scim/v2 with the token given at start, and deactivation there ends the session', async () => {
    const sample = await startSample({
      port: 0,
      databaseUrl,
      scimToken: 'chosen-demo-token-0123456789abcdef',
    });
    try {
      expect(sample.scim.token).toBe('chosen-demo-token-0123456789abcdef');
      expect((await scimGet(sample.url, 'chosen-demo-token-0123456789abcdef')).status).toBe(200);
      expect((await scimGet(sample.url, 'wrong')).status).toBe(401);

      const browser = new Browser();
      const picker = await browser.go(`${sample.url}/auth/oidc/acme-oidc/login`);
      expect((await browser.pick(picker, 'u1002')).url).toBe(`${sample.url}/profile`);

      const headers = {
        authorization: 'Bearer chosen-demo-token-0123456789abcdef',
        'content-type': 'application/scim+json',
      };
      // The directory provisions Bob, whom a login created: it takes his account over.
      const created = await fetch(`${sample.url}/scim/v2/Users`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: 'bob@acme.test',
          externalId: 'okta-00u1002',
          name: { givenName: 'Bob', familyName: 'Member' },
          emails: [{ value: 'bob@acme.test', type: 'work', primary: true }],
          active: true,
        }),
      });
      expect(created.status).toBe(201);
      const bob = (await created.json()) as { id: string };
      const userId = /data-user-id="([^"]+)"/.exec((await browser.go(`${sample.url}/profile`)).body)![1];
      expect(bob.id).toBe(userId);
      const patch = await fetch(`${sample.url}/scim/v2/Users/${bob.id}`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'active', value: false }],
        }),
      });
      expect(patch.status).toBeLessThan(300);
      const ended = await browser.go(`${sample.url}/profile`);
      expect(textOf(ended.body, 'error-code')).toBe('SESSION_ENDED');
    } finally {
      await sample.close();
    }
  });

  it('refuses a chosen token shorter than 32 characters at start-up, and leaves nothing running', async () => {
    await expect(startSample({ port: 0, databaseUrl, scimToken: 'short-demo-token' })).rejects.toThrow(
      'JIT_DEMO_SCIM_TOKEN must be at least 32 characters',
    );
  });

  it('issues a random token at each start and revokes the previous random one', async () => {
    const first = await startSample({ port: 0, databaseUrl });
    const firstToken = first.scim.token;
    await first.close();
    const second = await startSample({ port: 0, databaseUrl });
    try {
      expect(second.scim.token).not.toBe(firstToken);
      expect(second.scim.directoryId).toBe(first.scim.directoryId);
      expect((await scimGet(second.url, second.scim.token)).status).toBe(200);
      expect((await scimGet(second.url, firstToken)).status).toBe(401);
      // A token chosen earlier stays valid for this database.
      expect((await scimGet(second.url, 'chosen-demo-token-0123456789abcdef')).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});
