import { invalidValue } from './errors.js';

/**
 * What one resource may hold, the same on every store and checked before the store sees it, so that
 * a value a database would refuse (a NUL on PostgreSQL, a string longer than its column, a resource
 * larger than MariaDB's `TEXT`) is a 400 naming the attribute, never a failed transaction.
 *
 * The lengths fit the TypeORM store's columns: `userName` and a group's `displayName` are
 * `varchar(256)`, a tenant user's `external_id` is `varchar(255)`, a member's `display` is
 * `varchar(256)`. The attributes copied onto the tenant user (`name.givenName`,
 * `name.familyName`, `displayName`, the enterprise fields) are bounded so that its `attributes`
 * and an audit event's `changes` stay well inside a 64 KB `TEXT`.
 */
export const INPUT_LIMITS = Object.freeze({
  /** `userName` of a User, in characters. */
  userNameLength: 256,
  /** `externalId` of a User or Group. */
  externalIdLength: 255,
  /** A Group's `displayName`, and a member's `display`. */
  groupDisplayNameLength: 256,
  /** The attributes the tenant user gets (`displayName`, `name.givenName`, `department`, …). */
  profileValueLength: 256,
  /** Any other string in a resource, including unknown and extension attributes. */
  stringLength: 8192,
  /** An attribute name (a key anywhere in a resource). */
  nameLength: 256,
  /** Nesting of objects and arrays in a request body (a PatchOp's value, a Bulk operation's data). */
  depth: 32,
  /** The stored resource, as UTF-8 JSON. */
  resourceBytes: 262_144,
  /** Simple values (strings, numbers, booleans) in one resource: each is a row of the filter index. */
  resourceValues: 1000,
});

export type InputLimits = typeof INPUT_LIMITS;

// C0 controls except tab, line feed and carriage return (postal addresses are multi-line), and DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\u0000-\u001f\u007f]/;
// A surrogate without its pair: drivers would store U+FFFD in its place.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// Any character either check above looks at: a string without one (nearly every string) is storable.
// eslint-disable-next-line no-control-regex
const SUSPECT = /[\u0000-\u001f\u007f\ud800-\udfff]/;

/** Why `text` cannot be stored, or null: a control character, an unpaired surrogate. */
export function unstorable(text: string, singleLine = false): string | null {
  if (!SUSPECT.test(text)) return null;
  if ((singleLine ? ANY_CONTROL : CONTROL).test(text)) return 'contains a control character';
  if (LONE_SURROGATE.test(text)) return 'is not well-formed Unicode';
  return null;
}

/** Checks one identifying string (userName, externalId, displayName): single-line, within `max`. */
export function checkName(value: string, name: string, max: number): void {
  const problem = unstorable(value, true);
  if (problem) throw invalidValue(`"${name}" ${problem}.`);
  // The store also keeps it lower-cased, which can be longer ("İ" becomes "i̇").
  if (value.length > max || value.toLowerCase().length > max)
    throw invalidValue(`"${name}" is longer than ${max} characters.`);
}

/** A value met while walking a body, and where it is (built only to name it in an error). */
interface Visit {
  value: object;
  depth: number;
  parent: Visit | null;
  key: string;
  index: boolean;
}

/** The path of a value in the body, as errors name it (`emails[0].value`). */
function pathOf(visit: Visit | null): string {
  if (!visit || !visit.parent) return '';
  const parent = pathOf(visit.parent);
  return visit.index ? `${parent}[${visit.key}]` : parent ? `${parent}.${visit.key}` : visit.key;
}

const childPath = (parent: Visit, key: string, index: boolean) =>
  pathOf({ value: parent.value, depth: 0, parent, key, index });

/**
 * Walks a body without recursion, checking nesting depth, attribute names and every string; returns
 * the number of simple values (strings, numbers, booleans) it holds.
 */
function walk(body: object): number {
  let values = 0;
  const stack: Visit[] = [{ value: body, depth: 1, parent: null, key: '', index: false }];
  while (stack.length) {
    const visit = stack.pop()!;
    const { value, depth } = visit;
    if (depth > INPUT_LIMITS.depth)
      throw invalidValue(`"${pathOf(visit)}" is nested deeper than ${INPUT_LIMITS.depth} levels.`);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const child: unknown = value[i];
        if (typeof child === 'string') {
          values++;
          checkString(child, visit, String(i), true);
        } else if (child !== null && typeof child === 'object')
          stack.push({ value: child, depth: depth + 1, parent: visit, key: String(i), index: true });
        else if (typeof child === 'number' || typeof child === 'boolean') values++;
      }
    } else {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        checkKey(key, visit);
        const child = record[key];
        if (typeof child === 'string') {
          values++;
          checkString(child, visit, key, false);
        } else if (child !== null && typeof child === 'object')
          stack.push({ value: child, depth: depth + 1, parent: visit, key, index: false });
        else if (typeof child === 'number' || typeof child === 'boolean') values++;
      }
    }
  }
  return values;
}

/**
 * Checks a request body without recursion, before anything walks it recursively (rendering,
 * `structuredClone`, `JSON.stringify`): nesting depth, attribute names, and every string.
 */
export function checkBody(body: unknown): void {
  if (body === null || typeof body !== 'object') {
    if (typeof body === 'string') checkText(body, 'the body');
    return;
  }
  walk(body);
}

function checkKey(key: string, at: Visit): void {
  if (key.length <= INPUT_LIMITS.nameLength && !SUSPECT.test(key)) return;
  const path = pathOf(at);
  const where = path ? ` in "${path}"` : '';
  const problem = unstorable(key, true);
  if (problem) throw invalidValue(`An attribute name${where} ${problem}.`);
  if (key.length > INPUT_LIMITS.nameLength)
    throw invalidValue(`An attribute name${where} is longer than ${INPUT_LIMITS.nameLength} characters.`);
}

function checkString(value: string, parent: Visit, key: string, index: boolean): void {
  if (value.length <= INPUT_LIMITS.stringLength && !SUSPECT.test(value)) return;
  checkText(value, childPath(parent, key, index));
}

function checkText(value: string, path: string): void {
  const problem = unstorable(value);
  if (problem) throw invalidValue(`"${path}" ${problem}.`);
  if (value.length > INPUT_LIMITS.stringLength)
    throw invalidValue(`"${path}" is longer than ${INPUT_LIMITS.stringLength} characters.`);
}

/**
 * Checks what a resource stores (its JSON without the columns kept apart), after a PATCH too: the
 * checks on a body, the number of simple values, and the size.
 */
export function checkStored(data: Record<string, unknown>, type: string): void {
  if (walk(data) > INPUT_LIMITS.resourceValues)
    throw invalidValue(`A ${type} is limited to ${INPUT_LIMITS.resourceValues} values.`);
  const json = JSON.stringify(data);
  // A UTF-16 code unit is at most 3 bytes of UTF-8: a short text needs no count.
  const bytes = json.length * 3 <= INPUT_LIMITS.resourceBytes ? json.length : Buffer.byteLength(json, 'utf8');
  if (bytes > INPUT_LIMITS.resourceBytes)
    throw invalidValue(
      `The ${type} is ${bytes} bytes as JSON; a resource is limited to ${INPUT_LIMITS.resourceBytes}.`,
    );
}
