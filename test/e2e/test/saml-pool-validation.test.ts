import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAML } from '@node-saml/node-saml';
import {
  changeConfiguration,
  createProvisioner,
  MemoryConfigurationStore,
  MemoryStore,
  type Provisioner,
} from '@jit-sso/core';
import { storedConnection } from '@jit-sso/core/testing';
import { MemoryReplayCache, samlOptionsFor, SamlValidationPool, toProtocolError } from '@jit-sso/protocol';
import {
  encodeResponse,
  IDP_KEY,
  OTHER_IDP_KEY,
  TestSamlIdp,
  type AuthnRequestInfo,
} from '../src/saml-idp.js';

// Signed responses validated by a one-thread pool and by node-saml in-process, with the options of
// a connection kept in a configuration store. The thread keeps each connection's options after its
// first validation; these tests hold it to what node-saml itself does with the current options.

const id = 'acme-saml';
const base = 'https://app.acme.test';
const idp = new TestSamlIdp();
const store = new MemoryConfigurationStore();
const cache = new MemoryReplayCache();
const pool = new SamlValidationPool({ threads: 1 });
let provisioner: Provisioner;

async function saveConnection(idpCert: string): Promise<void> {
  await changeConfiguration(
    store,
    { tenantId: 'acme', actor: 'ops', action: 'connection.updated', target: id },
    async (tx, version) => {
      await tx.putConnection(
        storedConnection(id, 'acme', version, {
          protocol: 'saml',
          issuer: idp.entityIdFor(id),
          protocolOptions: {
            saml: {
              entryPoint: idp.ssoUrlFor(id),
              idpCert,
              spEntityId: `${base}/metadata`,
              acsUrl: `${base}/acs`,
            },
          },
        }),
      );
      return { result: null, changes: [] };
    },
  );
  await provisioner.refreshConfiguration!();
}

let requests = 0;
/** A response to a request this app sent (its id in the replay cache), signed with `key`. */
async function signedResponse(key = IDP_KEY): Promise<{ request: AuthnRequestInfo; xml: string }> {
  const request: AuthnRequestInfo = {
    id: `_request-${requests++}`,
    acsUrl: `${base}/acs`,
    spEntityId: `${base}/metadata`,
    relayState: '',
    idpEntityId: idp.entityIdFor(id),
  };
  const xml = idp.createResponse({
    request,
    user: { nameID: 'ann', attributes: { email: 'ann@acme.test', groups: ['engineering'] } },
    signingKey: key,
  });
  return { request, xml };
}

/** The outcome of validating the response once in the pool and once in-process, each time as a fresh login. */
async function bothWays(response: { request: AuthnRequestInfo; xml: string }) {
  const config = samlOptionsFor(await provisioner.getConnection(id), cache);
  const body = { SAMLResponse: encodeResponse(response.xml) };
  const settle = async (run: () => Promise<{ profile: unknown }>) => {
    await cache.saveAsync(response.request.id, new Date().toISOString());
    try {
      return { ok: true as const, profile: (await run()).profile as Record<string, unknown> };
    } catch (error) {
      const e = error as Error;
      return { ok: false as const, message: e.message, code: toProtocolError(e, 'saml').code };
    }
  };
  const pooled = await settle(() => pool.validatePostResponse(config, body));
  const inProcess = await settle(() => new SAML(config).validatePostResponseAsync(body));
  return { pooled, inProcess };
}

beforeAll(async () => {
  await idp.start();
  provisioner = createProvisioner({
    store: new MemoryStore(),
    configuration: { store, pollIntervalMs: 60_000 },
  });
  await saveConnection(IDP_KEY.cert);
});

afterAll(async () => {
  provisioner.close!();
  await pool.close();
  await idp.close();
});

describe('SamlValidationPool with signed responses', () => {
  it('hands back node-saml’s own profile, with its assertion, its XML and the response’s XML', async () => {
    const { pooled, inProcess } = await bothWays(await signedResponse());
    expect(pooled.ok && inProcess.ok).toBe(true);
    if (!pooled.ok || !inProcess.ok) return;
    const call = (profile: Record<string, unknown>, name: string) => (profile[name] as () => unknown)();
    const fields = (profile: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(profile).filter(([, v]) => typeof v !== 'function'));
    expect(fields(pooled.profile)).toEqual(fields(inProcess.profile));
    expect(pooled.profile['nameID']).toBe('ann');
    for (const name of ['getAssertionXml', 'getSamlResponseXml', 'getAssertion']) {
      expect(call(pooled.profile, name), name).toEqual(call(inProcess.profile, name));
    }
    // node-saml hands back the same assertion object at every call.
    expect(call(pooled.profile, 'getAssertion')).toBe(call(pooled.profile, 'getAssertion'));
  });

  it('checks the signature against a stored connection’s new certificate from the first login after the change', async () => {
    const before = await bothWays(await signedResponse(IDP_KEY));
    expect(before.pooled.ok).toBe(true);

    // The IdP moved to another key; the connection now pins only its new certificate.
    await saveConnection(OTHER_IDP_KEY.cert);
    const oldKey = await bothWays(await signedResponse(IDP_KEY));
    expect(oldKey.pooled).toEqual(oldKey.inProcess);
    expect(oldKey.pooled).toMatchObject({ ok: false, code: 'SAML_RESPONSE_INVALID' });
    const newKey = await bothWays(await signedResponse(OTHER_IDP_KEY));
    expect(newKey.pooled.ok).toBe(true);
    expect(newKey.inProcess.ok).toBe(true);

    // And back: the options the thread kept for the first certificate are not taken for the second.
    await saveConnection(IDP_KEY.cert);
    const back = await bothWays(await signedResponse(OTHER_IDP_KEY));
    expect(back.pooled).toEqual(back.inProcess);
    expect(back.pooled).toMatchObject({ ok: false, code: 'SAML_RESPONSE_INVALID' });
  });
});
