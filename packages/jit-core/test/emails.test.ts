import { describe, expect, it } from 'vitest';
import { isDomainVerified, normaliseEmail, tryNormaliseEmail } from '../src/index.js';
import { allUsers, denial, insertUser, oidcConnection, oidcLogin, samlLogin, setup } from './fixtures.js';

const login = { connectionId: 'acme-oidc' } as const;

describe('normaliseEmail', () => {
  it.each([
    ['mixed case', 'Ann.Lee@ACME.Test', 'ann.lee@acme.test'],
    ['leading and trailing spaces', '  ann@acme.test \t', 'ann@acme.test'],
    ['a trailing newline', 'ann@acme.test\n', 'ann@acme.test'],
    ['full-width characters', 'ＡＮＮ＠ａｃｍｅ．ｔｅｓｔ', 'ann@acme.test'],
    ['the Kelvin sign', '\u212Aate@acme.test', 'kate@acme.test'],
    ['a long s', 'ro\u017Fa@acme.test', 'rosa@acme.test'],
    ['a ligature', '\uFB01nn@acme.test', 'finn@acme.test'],
    ['a non-breaking space around it', '\u00A0ann@acme.test\u00A0', 'ann@acme.test'],
    ['an internationalised domain', 'ann@bücher.test', 'ann@bücher.test'],
  ])('folds %s', (_what, raw, expected) => {
    expect(normaliseEmail(raw)).toBe(expected);
  });

  it('keeps plus-addressing: a+b and a are different people', () => {
    expect(normaliseEmail('Ann+Sales@acme.test')).toBe('ann+sales@acme.test');
    expect(normaliseEmail('Ann+Sales@acme.test')).not.toBe(normaliseEmail('ann@acme.test'));
  });

  it('keeps dots in the local part: a.nn and ann are different people', () => {
    expect(normaliseEmail('a.nn@acme.test')).not.toBe(normaliseEmail('ann@acme.test'));
  });

  it('keeps look-alike letters from other scripts distinct', () => {
    // Cyrillic "а" (U+0430) is not Latin "a"; NFKC does not fold it, and neither may we.
    expect(normaliseEmail('\u0430nn@acme.test')).not.toBe('ann@acme.test');
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['no @', 'ann.acme.test'],
    ['no local part', '@acme.test'],
    ['no domain', 'ann@'],
    ['two @', 'ann@acme@acme.test'],
    ['a domain without a dot', 'ann@acme'],
    ['a numeric top-level label', 'ann@10.0.0.1'],
    ['a space inside', 'ann lee@acme.test'],
    ['quotes', '"ann"@acme.test'],
    ['a control character', 'ann\u0000@acme.test'],
    ['consecutive dots', 'ann..lee@acme.test'],
    ['an empty domain label', 'ann@acme..test'],
    ['a label starting with a hyphen', 'ann@-acme.test'],
    ['a display name', 'Ann <ann@acme.test>'],
    ['an overlong address', `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.test`],
  ])('rejects %s', (_what, raw) => {
    expect(tryNormaliseEmail(raw)).toBeNull();
    expect(() => normaliseEmail(raw)).toThrow(expect.objectContaining({ code: 'INVALID_ATTRIBUTE' }));
  });

  it.each([[42], [null], [undefined], [['ann@acme.test']], [{ email: 'ann@acme.test' }]])(
    'rejects a non-string (%s)',
    (raw) => {
      expect(tryNormaliseEmail(raw)).toBeNull();
    },
  );

  it('is idempotent: a stored address normalises to itself, for every BMP character in the local part', () => {
    const unstable: string[] = [];
    for (let cp = 0x20; cp <= 0xffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const once = tryNormaliseEmail(`a${String.fromCodePoint(cp)}b@acme.test`);
      if (once !== null && tryNormaliseEmail(once) !== once) unstable.push(cp.toString(16));
    }
    expect(unstable).toEqual([]);
  });

  it('names the field in its error', () => {
    expect(() => normaliseEmail('nope', 'mail')).toThrow(
      'The attribute "mail" is not valid: not an email address.',
    );
  });
});

describe('verified domains', () => {
  it('admits a listed domain only, not its subdomains', () => {
    expect(isDomainVerified('acme.test', ['acme.test'])).toBe(true);
    expect(isDomainVerified('eu.acme.test', ['acme.test'])).toBe(false);
  });

  it('admits subdomains only through a wildcard, which does not cover the parent', () => {
    expect(isDomainVerified('eu.acme.test', ['*.acme.test'])).toBe(true);
    expect(isDomainVerified('a.b.acme.test', ['*.acme.test'])).toBe(true);
    expect(isDomainVerified('acme.test', ['*.acme.test'])).toBe(false);
  });

  it('does not match a domain that merely ends with the same letters', () => {
    expect(isDomainVerified('evilacme.test', ['acme.test', '*.acme.test'])).toBe(false);
    expect(isDomainVerified('acme.test.evil.test', ['acme.test', '*.acme.test'])).toBe(false);
  });
});

describe('emails in the decision', () => {
  it.each([
    ['mixed case', 'ANN@Acme.Test'],
    ['full-width characters', 'ａｎｎ＠ａｃｍｅ．ｔｅｓｔ'],
    ['trailing spaces', 'ann@acme.test   '],
  ])('finds the same account for %s', async (_what, variant) => {
    const { provisioner, store } = setup();
    const user = await insertUser(store, { email: 'ann@acme.test' });
    const result = await provisioner.provision({ ...login, profile: oidcLogin({ email: variant }) });
    expect(result).toMatchObject({ action: 'linked', user: { id: user.id, email: 'ann@acme.test' } });
  });

  it('finds the account of "kate" for an address written with the Kelvin sign', async () => {
    const { provisioner, store } = setup();
    const kate = await insertUser(store, { email: 'kate@acme.test' });
    const result = await provisioner.provision({
      ...login,
      profile: oidcLogin({ email: '\u212Aate@acme.test' }),
    });
    expect(result.user.id).toBe(kate.id);
  });

  it('stores the normalised address on a new account', async () => {
    const { provisioner } = setup();
    const result = await provisioner.provision({
      ...login,
      profile: oidcLogin({ email: ' Ｋate@ACME.test ' }),
    });
    expect(result.user.email).toBe('kate@acme.test');
  });

  it('creates a separate account for a plus-address instead of linking it', async () => {
    const { provisioner, store } = setup();
    const ann = await insertUser(store, { email: 'ann@acme.test' });
    const result = await provisioner.provision({
      ...login,
      profile: oidcLogin({ email: 'ann+test@acme.test' }),
    });
    expect(result.action).toBe('created');
    expect(result.user.id).not.toBe(ann.id);
    expect(await allUsers(store)).toHaveLength(2);
  });

  it('does not link a Cyrillic look-alike address to the Latin one', async () => {
    const { provisioner, store } = setup();
    const ann = await insertUser(store, { email: 'ann@acme.test' });
    const result = await provisioner.provision({
      ...login,
      profile: oidcLogin({ email: '\u0430nn@acme.test' }),
    });
    expect(result.user.id).not.toBe(ann.id);
  });

  it('checks the domain after normalisation, so a full-width verified domain is admitted', async () => {
    const { provisioner } = setup({ connections: [oidcConnection({}, { verifiedDomains: ['ACME.Test.'] })] });
    const result = await provisioner.provision({
      ...login,
      profile: oidcLogin({ email: 'ann@ａｃｍｅ.test' }),
    });
    expect(result.user.email).toBe('ann@acme.test');
  });

  it('refuses a subdomain that is not listed', async () => {
    const { provisioner } = setup();
    await denial(
      provisioner.provision({ ...login, profile: oidcLogin({ email: 'ann@eu.acme.test' }) }),
      'DOMAIN_NOT_ALLOWED',
    );
  });

  it('admits a subdomain listed with a wildcard', async () => {
    const { provisioner } = setup({
      connections: [oidcConnection({}, { verifiedDomains: ['acme.test', '*.acme.test'] })],
    });
    const result = await provisioner.provision({
      ...login,
      profile: oidcLogin({ email: 'ann@eu.acme.test' }),
    });
    expect(result.action).toBe('created');
  });

  it('refuses an address stretched by comment injection onto another domain', async () => {
    const { provisioner, store } = setup();
    await insertUser(store, { email: 'victim@acme.test' });
    // node-saml returns `victim@acme.test<!---->.evil.test` as `victim@acme.test.evil.test`.
    await denial(
      provisioner.provision({
        connectionId: 'acme-saml',
        profile: samlLogin({}, { email: 'victim@acme.test.evil.test' }),
      }),
      'DOMAIN_NOT_ALLOWED',
    );
  });

  it('accepts one address sent twice in different case, and refuses two different addresses', async () => {
    const { provisioner } = setup();
    const one = await provisioner.provision({
      connectionId: 'acme-saml',
      profile: samlLogin({}, { email: ['Ann@acme.test', 'ann@acme.test'] }),
    });
    expect(one.user.email).toBe('ann@acme.test');
    const error = await denial(
      provisioner.provision({
        connectionId: 'acme-saml',
        profile: samlLogin({ nameID: 'other' }, { email: ['bob@acme.test', 'ceo@acme.test'] }),
      }),
      'INVALID_ATTRIBUTE',
    );
    expect(error.message).toContain('several different addresses');
  });
});
