import { describe, expect, it } from 'vitest';
import { applyPatch, readPatchRequest } from '../src/patch.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** Freezes a value and everything in it: a write into any part of it then throws. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const document = () =>
  deepFreeze({
    userName: 'ada@example.com',
    displayName: 'Ada',
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [
      { value: 'ada@example.com', type: 'work', primary: true },
      { value: 'ada@home.example', type: 'home' },
    ],
    [ENTERPRISE]: { department: 'Maths', manager: { value: 'm1' } },
  });

const patch = (operations: unknown[]) =>
  readPatchRequest({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });

describe('applyPatch', () => {
  it('changes a copy: the document it is given (frozen here, nested values too) stays as it was', () => {
    const before = document();
    const snapshot = structuredClone(before);
    const after = applyPatch(
      before,
      patch([
        { op: 'replace', path: 'displayName', value: 'Countess' },
        { op: 'replace', path: 'name.familyName', value: 'King' },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'ada@work.example' },
        { op: 'add', path: 'emails', value: [{ value: 'ada@other.example', type: 'other' }] },
        { op: 'remove', path: 'emails[type eq "home"]' },
        { op: 'replace', path: `${ENTERPRISE}:department`, value: 'Engines' },
        { op: 'remove', path: `${ENTERPRISE}:manager` },
        { op: 'replace', value: { title: 'Analyst', [ENTERPRISE]: { division: 'R&D' } } },
      ]),
    );
    expect(before).toEqual(snapshot);
    expect(after).toEqual({
      userName: 'ada@example.com',
      displayName: 'Countess',
      title: 'Analyst',
      name: { givenName: 'Ada', familyName: 'King' },
      emails: [
        { value: 'ada@work.example', type: 'work', primary: true },
        { value: 'ada@other.example', type: 'other' },
      ],
      [ENTERPRISE]: { department: 'Engines', division: 'R&D' },
    });
  });

  it('leaves the document as it was when a later operation fails', () => {
    const before = document();
    const snapshot = structuredClone(before);
    expect(() =>
      applyPatch(
        before,
        patch([
          { op: 'replace', path: `${ENTERPRISE}:department`, value: 'Engines' },
          { op: 'replace', path: 'id', value: 'other' },
        ]),
      ),
    ).toThrow(/cannot be changed/);
    expect(before).toEqual(snapshot);
  });
});
