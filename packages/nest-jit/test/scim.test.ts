import { oidcConnection } from './fixtures.js';
import { Controller, Get, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, createProvisioner, MemoryDirectoryStore } from '@jit-sso/core';
import { createDirectory, createScimService, issueDirectoryToken } from '@jit-sso/scim';
import { scimTestDirectory, scimUser } from '@jit-sso/scim/testing';
import { JitModule, JitScimModule, JitService } from '../src/index.js';

@Controller('directory')
class AppController {
  @Get('health')
  health(): string {
    return 'ok';
  }
}

describe('JitScimModule', () => {
  it('serves its path behind a global prefix, with JSON bodies Nest parsed and raw scim+json bodies', async () => {
    const { scim, auth } = await scimTestDirectory('http://app.test/api/directory/scim');
    @Module({
      imports: [
        JitScimModule.forRootAsync({ useFactory: () => ({ service: scim, path: 'directory/scim' }) }),
      ],
      controllers: [AppController],
    })
    class AppModule {}
    const ref = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = ref.createNestApplication({ logger: false });
    app.setGlobalPrefix('api');
    await app.init();
    try {
      const server = app.getHttpServer();
      const parsed = await request(server)
        .post('/api/directory/scim/Users')
        .set('Authorization', auth)
        .send(scimUser('a@acme.test'));
      expect(parsed.status, parsed.text).toBe(201);
      const raw = await request(server)
        .post('/api/directory/scim/Users')
        .set('Authorization', auth)
        .set('Content-Type', 'application/scim+json')
        .send(JSON.stringify(scimUser('b@acme.test')));
      expect(raw.status, raw.text).toBe(201);
      const found = await request(server)
        .get('/api/directory/scim/Users')
        .query({ filter: 'userName eq "a@acme.test"' })
        .set('Authorization', auth);
      expect(JSON.parse(found.text)).toMatchObject({
        totalResults: 1,
        Resources: [{ id: JSON.parse(parsed.text).id }],
      });
      const config = await request(server)
        .get('/api/directory/scim/ServiceProviderConfig')
        .set('Authorization', auth);
      expect(config.status, config.text).toBe(200);
      expect((await request(server).get('/api/directory/scim/Users')).status).toBe(401);
      expect((await request(server).get('/api/directory/health')).text).toBe('ok');
    } finally {
      await app.close();
    }
  });

  it('takes JitService as the SCIM provisioner: the tenant seat limit holds for directory users', async () => {
    const store = new MemoryDirectoryStore();
    const { id } = await createDirectory(store, { tenantId: 'acme', connectionId: 'acme-oidc' });
    const { token } = await issueDirectoryToken(store, id, { label: 'test' });
    @Module({
      imports: [
        JitModule.forRoot({
          store,
          connections: [oidcConnection()],
          tenants: [{ id: 'acme', seatLimit: 1 }],
          isGlobal: true,
        }),
        JitScimModule.forRootAsync({
          inject: [JitService],
          useFactory: (jit: JitService) => ({
            service: createScimService({ store, provisioner: jit, baseUrl: 'http://app.test/scim/v2' }),
          }),
        }),
      ],
    })
    class AppModule {}
    const ref = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = ref.createNestApplication({ logger: false });
    await app.init();
    try {
      const server = app.getHttpServer();
      const post = (userName: string) =>
        request(server)
          .post('/scim/v2/Users')
          .set('Authorization', `Bearer ${token}`)
          .send(scimUser(userName));
      expect((await post('a@acme.test')).status).toBe(201);
      const refused = await post('b@acme.test');
      expect(refused.status, refused.text).toBe(403);
      expect(JSON.parse(refused.text).detail).toMatch(/^SEAT_LIMIT_REACHED/);
      expect(await store.findUserByEmail('acme', 'b@acme.test')).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('refuses seat admission with a ConfigurationError when its provisioner cannot admit users', async () => {
    const store = new MemoryDirectoryStore();
    const { admitUser, ...withoutSeats } = createProvisioner({ store, connections: [oidcConnection()] });
    expect(typeof admitUser).toBe('function');
    const jit = new JitService({ provisioner: withoutSeats, connections: [oidcConnection()] });
    await expect(store.transaction((tx) => jit.admitUser(tx, 'acme'))).rejects.toThrow(ConfigurationError);
  });
});
