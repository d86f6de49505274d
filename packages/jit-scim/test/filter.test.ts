import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { matchesFilter, type AttributePath, type ScimFilter } from '@jit-sso/core';
import { formatFilter, parseFilter, parsePatchPath, ScimError } from '../src/index.js';

const attr = (name: string, sub: string | null = null, schema: string | null = null): AttributePath => ({
  schema,
  name,
  sub,
});

function scimTypeOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (error) {
    if (error instanceof ScimError) return error.scimType;
    throw error;
  }
  return 'no error';
}

describe('parseFilter', () => {
  it('reads operators and attribute names in any case', () => {
    expect(parseFilter('userName Eq "Test"')).toEqual({
      op: 'eq',
      attribute: attr('username'),
      value: 'Test',
    });
    expect(parseFilter('DisplayName CO "Bob"')).toEqual({
      op: 'co',
      attribute: attr('displayname'),
      value: 'Bob',
    });
  });

  it('reads unquoted values as Microsoft’s suite sends them', () => {
    expect(parseFilter('userName sw O')).toEqual({ op: 'sw', attribute: attr('username'), value: 'O' });
    expect(parseFilter('meta.Created gt 2015-10-10T14:38:21.8617979-07:00')).toEqual({
      op: 'gt',
      attribute: attr('meta', 'created'),
      value: '2015-10-10T14:38:21.8617979-07:00',
    });
    expect(
      parseFilter(
        'name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)',
      ),
    ).toEqual({
      op: 'and',
      filters: [
        { op: 'eq', attribute: attr('name', 'familyname'), value: 'Employee' },
        {
          op: 'or',
          filters: [
            { op: 'co', attribute: attr('emails', 'value'), value: 'example.com' },
            { op: 'co', attribute: attr('emails', 'value'), value: 'example.org' },
          ],
        },
      ],
    });
  });

  it('reads numbers, booleans and null', () => {
    expect(parseFilter('quota gt 1.5')).toMatchObject({ value: 1.5 });
    expect(parseFilter('quota gt 2e2')).toMatchObject({ value: 200 });
    expect(parseFilter('active eq False')).toMatchObject({ value: false });
    expect(parseFilter('userType eq null')).toMatchObject({ value: null });
    expect(parseFilter('value eq 123abc')).toMatchObject({ value: '123abc' });
    expect(parseFilter('value eq "123"')).toMatchObject({ value: '123' });
  });

  it('binds and tighter than or, and not tighter than both', () => {
    expect(parseFilter('a eq 1 or b eq 2 and c eq 3')).toEqual({
      op: 'or',
      filters: [
        { op: 'eq', attribute: attr('a'), value: 1 },
        {
          op: 'and',
          filters: [
            { op: 'eq', attribute: attr('b'), value: 2 },
            { op: 'eq', attribute: attr('c'), value: 3 },
          ],
        },
      ],
    });
    expect(parseFilter('not (a pr) and b pr')).toEqual({
      op: 'and',
      filters: [
        { op: 'not', filter: { op: 'pr', attribute: attr('a') } },
        { op: 'pr', attribute: attr('b') },
      ],
    });
    expect(parseFilter('NOT id pr')).toEqual({ op: 'not', filter: { op: 'pr', attribute: attr('id') } });
    expect(parseFilter('not pr')).toEqual({ op: 'pr', attribute: attr('not') });
  });

  it('reads value paths and extension URNs', () => {
    expect(parseFilter('emails[type eq "work" and value co "@acme.test"]')).toEqual({
      op: 'has',
      attribute: attr('emails'),
      filter: {
        op: 'and',
        filters: [
          { op: 'eq', attribute: attr('type'), value: 'work' },
          { op: 'co', attribute: attr('value'), value: '@acme.test' },
        ],
      },
    });
    expect(
      parseFilter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"'),
    ).toEqual({
      op: 'eq',
      attribute: attr('employeenumber', null, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user'),
      value: '42',
    });
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"')).toEqual({
      op: 'eq',
      attribute: attr('username'),
      value: 'a',
    });
  });

  it.each([
    ['', 'empty'],
    ['userName', 'no operator'],
    ['userName eq', 'no value'],
    ['userName equals "x"', 'unknown operator'],
    ['(userName eq "x"', 'unclosed group'],
    ['userName eq "x")', 'trailing input'],
    ['emails[type eq "work"', 'unclosed value path'],
    ['emails[type[x eq 1] eq 2]', 'nested value path'],
    ['userName eq "unterminated', 'unterminated string'],
    ['a.b.c eq 1', 'too many dots'],
    ['userName eq "x" and', 'dangling and'],
  ])('refuses %j (%s) with invalidFilter', (source) => {
    expect(scimTypeOf(() => parseFilter(source))).toBe('invalidFilter');
  });

  it('refuses filters nested deeper than it allows', () => {
    expect(scimTypeOf(() => parseFilter('('.repeat(100) + 'a pr' + ')'.repeat(100)))).toBe('invalidFilter');
  });
});

describe('parsePatchPath', () => {
  it('reads plain, dotted, filtered and extension paths', () => {
    expect(parsePatchPath('name.givenName')).toEqual({
      attribute: attr('name', 'givenname'),
      filter: null,
      subAfterFilter: null,
    });
    expect(parsePatchPath('emails[type eq "work"].value')).toEqual({
      attribute: attr('emails'),
      filter: { op: 'eq', attribute: attr('type'), value: 'work' },
      subAfterFilter: 'value',
    });
    expect(parsePatchPath('members[value eq "2819c223"]').filter).toEqual({
      op: 'eq',
      attribute: attr('value'),
      value: '2819c223',
    });
    expect(
      parsePatchPath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager').attribute,
    ).toEqual(attr('manager', null, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user'));
  });

  it('refuses malformed paths with invalidPath', () => {
    expect(scimTypeOf(() => parsePatchPath('emails[type eq "work"'))).toBe('invalidPath');
    expect(scimTypeOf(() => parsePatchPath('emails[type eq "work"]value'))).toBe('invalidPath');
    expect(scimTypeOf(() => parsePatchPath('name.a.b'))).toBe('invalidPath');
  });
});

// ---- properties ----

const names = ['userName', 'displayName', 'title', 'nickName', 'userType'];
const attrName = fc.constantFrom(...names).map((n) => n.toLowerCase());
const word = fc.stringMatching(/^[A-Za-z0-9@. _-]{0,8}$/);
const value = fc.oneof(word, fc.integer({ min: -50, max: 50 }), fc.boolean(), fc.constant(null));

const compare: fc.Arbitrary<ScimFilter> = fc.record({
  op: fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'),
  attribute: attrName.map((n) => attr(n)),
  value,
}) as fc.Arbitrary<ScimFilter>;
const equality: fc.Arbitrary<ScimFilter> = fc.record({
  op: fc.constant('eq'),
  attribute: attrName.map((n) => attr(n)),
  value,
}) as fc.Arbitrary<ScimFilter>;
const presence: fc.Arbitrary<ScimFilter> = attrName.map((n) => ({ op: 'pr' as const, attribute: attr(n) }));
const emailsFilter: fc.Arbitrary<ScimFilter> = fc
  .record({
    op: fc.constantFrom('eq', 'co', 'sw'),
    attribute: fc.constantFrom('type', 'value').map((n) => attr(n)),
    value: word,
  })
  .map((f) => ({ op: 'has', attribute: attr('emails'), filter: f }) as ScimFilter);

const { filter: filterArb } = fc.letrec<{ filter: ScimFilter }>((tie) => ({
  filter: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'f' },
    compare,
    presence,
    emailsFilter,
    fc.record({
      op: fc.constantFrom('and' as const, 'or' as const),
      filters: fc.array(tie('filter'), { minLength: 2, maxLength: 3 }),
    }),
    tie('filter').map((f) => ({ op: 'not' as const, filter: f })),
  ),
}));

const userArb = fc.record(
  {
    userName: word,
    displayName: fc.oneof(word, fc.constant(undefined)),
    title: fc.oneof(word, fc.integer({ min: -50, max: 50 }), fc.constant(null)),
    nickName: fc.oneof(word, fc.boolean()),
    emails: fc.array(fc.record({ type: fc.constantFrom('work', 'home'), value: word }), { maxLength: 3 }),
  },
  { requiredKeys: ['userName'] },
);

describe('filter properties', () => {
  it('formatFilter and parseFilter round-trip every tree', () => {
    fc.assert(
      fc.property(filterArb, (filter) => {
        expect(parseFilter(formatFilter(filter))).toEqual(filter);
      }),
      { numRuns: 500 },
    );
  });

  it('ne is the negation of eq', () => {
    fc.assert(
      fc.property(userArb, equality, (user, f) => {
        const ne = { ...f, op: 'ne' } as ScimFilter;
        expect(matchesFilter(user, ne)).toBe(!matchesFilter(user, f));
      }),
    );
  });

  it('not negates every comparison', () => {
    fc.assert(
      fc.property(userArb, compare, (user, f) => {
        expect(matchesFilter(user, { op: 'not', filter: f })).toBe(!matchesFilter(user, f));
      }),
    );
  });

  it('string comparisons ignore case', () => {
    fc.assert(
      fc.property(word, word, (a, b) => {
        const user = { userName: a };
        expect(matchesFilter(user, parseFilter(`userName eq ${JSON.stringify(b)}`))).toBe(
          a.toLowerCase() === b.toLowerCase(),
        );
        expect(matchesFilter(user, parseFilter(`USERNAME co ${JSON.stringify(b)}`))).toBe(
          a.toLowerCase().includes(b.toLowerCase()),
        );
      }),
    );
  });
});
