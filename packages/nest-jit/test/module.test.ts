import { readFileSync } from 'node:fs';
import './fixtures.js';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  createProvisioner,
  JitError,
  MemoryStore,
  type ConnectionInput,
  type ProvisioningEvent,
} from '@jit-sso/core';
import { MemoryReplayCache, recordProtocolDenial } from '@jit-sso/protocol';
import { JitModule, JitService, type JitModuleOptions } from '../src/index.js';
import { annLogin, oidcConnection, options } from './fixtures.js';

const IDP_CERT = readFileSync(new URL('certs/idp-cert.pem', import.meta.url), 'utf8');

const SETTINGS = Symbol('settings');

@Module({
  providers: [{ provide: SETTINGS, useValue: { domain: 'acme.test' } }],
  exports: [SETTINGS],
})
class SettingsModule {}

@Injectable()
class JitOptionsFactory {
  constructor(@Inject(SETTINGS) private readonly settings: { domain: string }) {}
  createJitOptions(): JitModuleOptions {
    return options({
      connections: [oidcConnection({ jit: { verifiedDomains: [this.settings.domain] } })],
    });
  }
}

@Module({ imports: [SettingsModule], providers: [JitOptionsFactory], exports: [JitOptionsFactory] })
class JitOptionsModule {}

async function engineOf(module: Parameters<typeof Test.createTestingModule>[0]): Promise<JitService> {
  const ref = await Test.createTestingModule(module).compile();
  return ref.get(JitService);
}

async function expectFirstLoginCreates(jit: JitService): Promise<void> {
  const result = await jit.provision({ connectionId: 'acme-oidc', profile: annLogin() });
  expect(result.action).toBe('created');
  expect(result.user.email).toBe('ann@acme.test');
  expect(await jit.getActiveUser(result.user.id)).toMatchObject({ id: result.user.id, status: 'active' });
}

async function bootError(module: Parameters<typeof Test.createTestingModule>[0]): Promise<JitError> {
  const error = await Test.createTestingModule(module)
    .compile()
    .then(() => null)
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(JitError);
  return error as JitError;
}

describe('JitModule registration', () => {
  it('forRoot provides the engine built from the options', async () => {
    const store = new MemoryStore();
    const jit = await engineOf({ imports: [JitModule.forRoot(options({ store }))] });
    expect(jit.store).toBe(store);
    await expectFirstLoginCreates(jit);
  });

  it('forRootAsync with useFactory and inject reads providers of imported modules', async () => {
    const jit = await engineOf({
      imports: [
        JitModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SETTINGS],
          useFactory: async (settings: { domain: string }) =>
            options({ connections: [oidcConnection({ jit: { verifiedDomains: [settings.domain] } })] }),
        }),
      ],
    });
    await expectFirstLoginCreates(jit);
  });

  it('forRootAsync with useClass builds the options class inside the module', async () => {
    const jit = await engineOf({
      imports: [JitModule.forRootAsync({ imports: [SettingsModule], useClass: JitOptionsFactory })],
    });
    await expectFirstLoginCreates(jit);
  });

  it('forRootAsync with useExisting reuses a provider exported by an imported module', async () => {
    const jit = await engineOf({
      imports: [JitModule.forRootAsync({ imports: [JitOptionsModule], useExisting: JitOptionsFactory })],
    });
    await expectFirstLoginCreates(jit);
  });

  it('uses an engine the app already built (shared with its SCIM service, say)', async () => {
    const events: ProvisioningEvent['type'][] = [];
    const store = new MemoryStore();
    const provisioner = createProvisioner({
      store,
      connections: [oidcConnection()],
      onEvent: (event) => void events.push(event.type),
    });
    const jit = await engineOf({
      imports: [JitModule.forRoot({ provisioner, connections: [oidcConnection()] })],
    });
    expect(jit.store).toBe(store);
    await expectFirstLoginCreates(jit);
    expect(events).toEqual(['provisioned']);
    const refusal = new JitError('SAML_REPLAY', 'The assertion was already used.');
    const audit = await recordProtocolDenial(jit, { connectionId: oidcConnection().id, error: refusal });
    expect(audit?.reason).toBe('SAML_REPLAY');
    expect(events).toEqual(['provisioned', 'denied']);
  });

  it('isGlobal makes JitService injectable in modules that do not import JitModule', async () => {
    @Injectable()
    class Accounts {
      constructor(readonly jit: JitService) {}
    }
    @Module({ providers: [Accounts], exports: [Accounts] })
    class AccountsModule {}

    const ref = await Test.createTestingModule({
      imports: [JitModule.forRoot({ ...options(), isGlobal: true }), AccountsModule],
    }).compile();
    expect(ref.get(Accounts).jit).toBe(ref.get(JitService));
  });

  it('without isGlobal, a module that does not import JitModule cannot inject JitService', async () => {
    @Injectable()
    class Accounts {
      constructor(readonly jit: JitService) {}
    }
    @Module({ providers: [Accounts] })
    class AccountsModule {}

    await expect(
      Test.createTestingModule({ imports: [JitModule.forRoot(options()), AccountsModule] }).compile(),
    ).rejects.toThrow(/JitService/);
  });
});

describe('JitModule validates its options at start-up', () => {
  it('refuses a connection without verified domains before any login', async () => {
    const error = await bootError({
      imports: [
        JitModule.forRoot(options({ connections: [oidcConnection({ jit: { verifiedDomains: [] } })] })),
      ],
    });
    expect(error.code).toBe('INVALID_CONFIGURATION');
    expect(error.message).toMatch(/verifiedDomains/);
  });

  it('refuses an unknown connection field returned by an async factory', async () => {
    const error = await bootError({
      imports: [
        JitModule.forRootAsync({
          useFactory: () => options({ connections: [{ ...oidcConnection(), issuerUrl: 'x' } as never] }),
        }),
      ],
    });
    expect(error.code).toBe('INVALID_CONFIGURATION');
    expect(error.message).toMatch(/issuerUrl/);
  });

  it('refuses options without a store', async () => {
    const error = await bootError({
      imports: [JitModule.forRoot({ connections: [oidcConnection()] } as never)],
    });
    expect(error.code).toBe('INVALID_CONFIGURATION');
    expect(error.message).toMatch(/store/);
  });

  it('refuses both an engine and a store', async () => {
    const provisioner = createProvisioner({ store: new MemoryStore(), connections: [oidcConnection()] });
    const error = await bootError({
      imports: [JitModule.forRoot({ ...options(), provisioner } as never)],
    });
    expect(error.message).toMatch(/either options.provisioner or options.store/);
  });

  it("checks the protocol settings of a shared engine's connections when it is given them", async () => {
    const bad = oidcConnection({ protocolOptions: { oidc: { clientId: 'app' } } });
    const provisioner = createProvisioner({ store: new MemoryStore(), connections: [bad] });
    const error = await bootError({ imports: [JitModule.forRoot({ provisioner, connections: [bad] })] });
    expect(error.message).toMatch(/protocolOptions\.oidc\.redirectUri/);
  });

  it('refuses a factory that returns nothing', async () => {
    const error = await bootError({
      imports: [JitModule.forRootAsync({ useFactory: () => undefined as never })],
    });
    expect(error.code).toBe('INVALID_CONFIGURATION');
  });

  it('refuses the same connection id twice', async () => {
    const error = await bootError({
      imports: [JitModule.forRoot(options({ connections: [oidcConnection(), oidcConnection()] }))],
    });
    expect(error.message).toMatch(/configured twice/);
  });

  const samlConnection = (saml: Record<string, unknown> = {}): ConnectionInput => ({
    id: 'acme-saml',
    tenantId: 'acme',
    protocol: 'saml',
    issuer: 'https://saml.acme.test/metadata',
    jit: { verifiedDomains: ['acme.test'] },
    protocolOptions: {
      saml: {
        entryPoint: 'https://saml.acme.test/sso',
        idpCert: IDP_CERT,
        spEntityId: 'https://app.test/saml',
        acsUrl: 'https://app.test/auth/saml/acme-saml/acs',
        ...saml,
      },
    },
  });

  it('starts with a SAML connection and a replay cache', async () => {
    const jit = await engineOf({
      imports: [
        JitModule.forRoot(options({ connections: [samlConnection()], replayCache: new MemoryReplayCache() })),
      ],
    });
    expect((await jit.getConnection('acme-saml')).protocol).toBe('saml');
  });

  it('refuses a SAML connection when no replay cache is configured', async () => {
    const error = await bootError({
      imports: [JitModule.forRoot(options({ connections: [samlConnection()] }))],
    });
    expect(error.code).toBe('INVALID_CONFIGURATION');
    expect(error.message).toMatch(/replayCache/);
  });

  it('refuses a SAML connection whose ACS URL is not a URL', async () => {
    const error = await bootError({
      imports: [
        JitModule.forRoot(
          options({
            connections: [samlConnection({ acsUrl: '/acs' })],
            replayCache: new MemoryReplayCache(),
          }),
        ),
      ],
    });
    expect(error.message).toMatch(/protocolOptions\.saml\.acsUrl/);
  });

  it('refuses an OIDC connection without a client id', async () => {
    const error = await bootError({
      imports: [
        JitModule.forRoot(
          options({
            connections: [
              oidcConnection({ protocolOptions: { oidc: { redirectUri: 'https://app.test/cb' } } }),
            ],
          }),
        ),
      ],
    });
    expect(error.message).toMatch(/protocolOptions\.oidc\.clientId/);
  });
});
