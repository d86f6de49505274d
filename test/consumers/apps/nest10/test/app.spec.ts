import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { TypeormDirectoryStore } from '@jit-sso/typeorm';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { useSessions } from '../src/setup';

describe('the app module under Jest', () => {
  let app: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: false });
    useSessions(app);
    await app.listen(0);
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
  });

  it('refuses the guarded route without a session', async () => {
    const res = await fetch(`${url}/me`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'SESSION_ENDED' } });
  });

  it('sends a SAML sign-in to the identity provider', async () => {
    const res = await fetch(`${url}/auth/saml/acme-saml/login`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/\/saml\/sso\?SAMLRequest=/);
  });

  describe('the admin API (JitAdminModule)', () => {
    const admin = (tenant: string) => ({
      'x-admin-actor': `it-admin@${tenant}.test`,
      'x-admin-tenant': tenant,
    });
    const call = async (method: string, path: string, tenant: string | null, body?: unknown) => {
      const res = await fetch(`${url}/admin/api${path}`, {
        method,
        headers: {
          ...(tenant ? admin(tenant) : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: await res.json() };
    };

    it('creates a SAML connection from uploaded metadata, lists it and serves its SP values', async () => {
      // The dev IdP's metadata, written next to the app by the test driver.
      const metadataXml = readFileSync('idp-metadata.xml', 'utf8');
      const created = await call('POST', '/connections/saml', 'initech', {
        id: 'initech-sso',
        displayName: 'Initech',
        metadataXml,
        jit: { defaultRoles: ['viewer'] },
      });
      expect(created.status).toBe(201);
      expect(created.body.connection).toMatchObject({
        id: 'initech-sso',
        tenantId: 'initech',
        protocol: 'saml',
        serviceProvider: { acsUrl: `${process.env.APP_URL}/auth/saml/initech-sso/acs` },
      });
      expect(created.body.report.certificates[0].status).toBe('valid');

      const listed = await call('GET', '/connections', 'initech');
      expect(listed.status).toBe(200);
      expect(listed.body.map((c: { id: string }) => c.id)).toEqual(['initech-sso']);

      const values = await call('GET', '/service-provider/saml/initech-sso', 'initech');
      expect(values.body).toMatchObject({
        entityId: `${process.env.APP_URL}/auth/saml/initech-sso/metadata`,
        acsUrl: `${process.env.APP_URL}/auth/saml/initech-sso/acs`,
      });
      const metadata = await fetch(`${url}/admin/api/connections/initech-sso/sp-metadata`, {
        headers: admin('initech'),
      });
      expect(metadata.status).toBe(200);
      expect(metadata.headers.get('content-type')).toMatch(/samlmetadata\+xml/);
      expect(await metadata.text()).toContain(`${process.env.APP_URL}/auth/saml/initech-sso/acs`);
    });

    it("answers another tenant's administrator NOT_FOUND, and audits the attempt", async () => {
      const since = new Date(Date.now() - 1000);
      const refused = await call('GET', '/connections/initech-sso', 'globex');
      expect([refused.status, refused.body.error.code]).toEqual([404, 'NOT_FOUND']);
      expect((await call('GET', '/connections', 'globex')).body).toEqual([]);
      const events = await new TypeormDirectoryStore(app.get(DataSource)).listAuditEvents({
        tenantId: 'globex',
        since,
        limit: 10,
      });
      expect(events.map((e) => [e.action, e.actor, e.subject, e.reason])).toEqual([
        ['denied', 'admin', 'it-admin@globex.test', 'ADMIN_CROSS_TENANT'],
      ]);
    });

    it('refuses a caller the app does not know with 401', async () => {
      const res = await call('GET', '/connections', null);
      expect([res.status, res.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    });
  });
});
