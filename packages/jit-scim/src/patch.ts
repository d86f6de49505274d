import { ENTERPRISE_USER_SCHEMA, matchesFilter, type ScimFilter } from '@jit-sso/core';
import { CANONICAL_NAMES, PATCH_SCHEMA } from './discovery.js';
import { invalidPath, invalidSyntax, invalidValue, mutability, noTarget } from './errors.js';
import { parsePatchPath, type PatchPath } from './filter.js';

export interface PatchOperation {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: string | null;
  readonly value: unknown;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const READ_ONLY = new Set(['id', 'meta', 'groups', 'schemas']);
const MAX_OPERATIONS = 1000;

/**
 * Reads a PatchOp body. Operation names are accepted in any case (Entra ID sends `Replace`), and
 * `Operations`/`op`/`path`/`value` keys in any case too.
 */
export function readPatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw invalidSyntax('The PATCH body must be a PatchOp object.');
  const schemas = pick(body, 'schemas');
  if (
    Array.isArray(schemas) &&
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_SCHEMA.toLowerCase())
  ) {
    throw invalidSyntax(`A PATCH body must have the schema "${PATCH_SCHEMA}".`);
  }
  const operations = pick(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0)
    throw invalidSyntax('"Operations" must be a non-empty array.');
  if (operations.length > MAX_OPERATIONS)
    throw invalidSyntax(`At most ${MAX_OPERATIONS} operations are accepted.`);
  return operations.map((raw, i) => {
    if (!isObject(raw)) throw invalidSyntax(`Operation ${i + 1} is not an object.`);
    const op = String(pick(raw, 'op') ?? '').toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw invalidSyntax(`Operation ${i + 1}: "op" must be add, replace or remove.`);
    }
    const path = pick(raw, 'path');
    if (path !== undefined && path !== null && (typeof path !== 'string' || !path.trim())) {
      throw invalidPath(`Operation ${i + 1}: "path" must be a non-empty string.`);
    }
    const value = pick(raw, 'value');
    if (op !== 'remove' && value === undefined)
      throw invalidValue(`Operation ${i + 1}: "${op}" needs a "value".`);
    if (op === 'remove' && !path) throw noTarget(`Operation ${i + 1}: "remove" needs a "path".`);
    return { op, path: typeof path === 'string' ? path.trim() : null, value };
  });
}

function pick(object: Json, name: string): unknown {
  const lower = name.toLowerCase();
  for (const key of Object.keys(object)) if (key.toLowerCase() === lower) return object[key];
  return undefined;
}

function findKey(object: Json, lowerName: string): string | null {
  for (const key of Object.keys(object)) if (key.toLowerCase() === lowerName) return key;
  return null;
}

/** The key to write: the existing one (whatever its case), else the schema's casing, else as sent. */
function keyFor(object: Json, rawName: string): string {
  return findKey(object, rawName.toLowerCase()) ?? CANONICAL_NAMES.get(rawName.toLowerCase()) ?? rawName;
}

/** The raw (case-preserving) attribute and sub-attribute names of a path, for naming new keys. */
function rawNames(path: string): { schema: string | null; name: string; sub: string | null } {
  const head = path.includes('[') ? path.slice(0, path.indexOf('[')) : path;
  let schema: string | null = null;
  let rest = head;
  if (/^urn:/i.test(head)) {
    const colon = head.lastIndexOf(':');
    schema = head.slice(0, colon);
    rest = head.slice(colon + 1);
    if (/^urn:ietf:params:scim:schemas:core:2\.0:(user|group)$/i.test(schema)) schema = null;
  }
  const [name, sub] = rest.split('.');
  const tail = path.includes(']') ? path.slice(path.lastIndexOf(']') + 1).replace(/^\./, '') : '';
  return { schema, name: name!, sub: sub ?? (tail || null) };
}

/**
 * The object an operation writes into: the document, or its extension's object (a copy made here,
 * as the document's values are shared with the resource it was copied from).
 */
function container(doc: Json, schema: string | null, create: boolean): Json | null {
  if (schema === null) return doc;
  const key = findKey(doc, schema.toLowerCase());
  if (key !== null) {
    if (!isObject(doc[key])) {
      if (!create) return null;
      doc[key] = {};
    } else doc[key] = { ...(doc[key] as Json) };
    return doc[key] as Json;
  }
  if (!create) return null;
  const canonical =
    schema.toLowerCase() === ENTERPRISE_USER_SCHEMA.toLowerCase() ? ENTERPRISE_USER_SCHEMA : schema;
  doc[canonical] = {};
  return doc[canonical] as Json;
}

const sameElement = (a: unknown, b: unknown): boolean => {
  if (isObject(a) && isObject(b) && pick(a, 'value') !== undefined)
    return pick(a, 'value') === pick(b, 'value');
  return JSON.stringify(a) === JSON.stringify(b);
};

function appendUnique(list: unknown[], values: unknown[]): unknown[] {
  const out = [...list];
  for (const value of values) if (!out.some((existing) => sameElement(existing, value))) out.push(value);
  return out;
}

function merge(target: Json, source: Json): Json {
  const out: Json = { ...target };
  for (const [k, v] of Object.entries(source)) out[keyFor(out, k)] = v;
  return out;
}

/** The attribute values a filter fixes with `eq` (`type eq "work"`), for creating a missing element. */
function seedFromFilter(filter: ScimFilter): Json {
  const seed: Json = {};
  const visit = (f: ScimFilter) => {
    if (f.op === 'and') f.filters.forEach(visit);
    else if (f.op === 'eq' && f.attribute.sub === null)
      seed[CANONICAL_NAMES.get(f.attribute.name) ?? f.attribute.name] = f.value;
  };
  visit(filter);
  return seed;
}

function applyAt(doc: Json, op: PatchOperation['op'], pathText: string, value: unknown): void {
  const parsed: PatchPath = parsePatchPath(pathText);
  const raw = rawNames(pathText);
  if (parsed.attribute.schema === null && READ_ONLY.has(parsed.attribute.name)) {
    throw mutability(`"${parsed.attribute.name}" cannot be changed.`);
  }
  const holder = container(doc, raw.schema, op !== 'remove');
  if (!holder) return; // removing from an extension that is absent: nothing to do
  const key = keyFor(holder, raw.name);
  const current = holder[key];

  if (parsed.filter) {
    const list = Array.isArray(current)
      ? [...current]
      : current === undefined || current === null
        ? []
        : [current];
    const sub = parsed.subAfterFilter;
    const subRaw = raw.sub;
    const matching = list.map((element) => isObject(element) && matchesFilter(element, parsed.filter!));
    if (op === 'remove') {
      if (sub) {
        holder[key] = list.map((element, i) => {
          if (!matching[i]) return element;
          const copy = { ...(element as Json) };
          const k = findKey(copy, sub);
          if (k !== null) delete copy[k];
          return copy;
        });
      } else {
        holder[key] = list.filter((_, i) => !matching[i]);
      }
      return;
    }
    if (!matching.some(Boolean)) {
      // Entra ID: add/replace on a filtered path that matches nothing creates the element.
      const seed = seedFromFilter(parsed.filter);
      const element = sub
        ? { ...seed, [keyFor(seed, subRaw ?? sub)]: value }
        : isObject(value)
          ? merge(seed, value)
          : value;
      holder[key] = [...list, element];
      return;
    }
    holder[key] = list.map((element, i) => {
      if (!matching[i]) return element;
      if (sub) {
        const copy = { ...(element as Json) };
        copy[keyFor(copy, subRaw ?? sub)] = value;
        return copy;
      }
      return isObject(value) ? (op === 'add' ? merge(element as Json, value) : value) : value;
    });
    return;
  }

  if (raw.sub !== null && parsed.attribute.sub !== null) {
    const applySub = (element: unknown): Json => {
      const copy: Json = isObject(element) ? { ...element } : {};
      const k = keyFor(copy, raw.sub!);
      if (op === 'remove') delete copy[k];
      else copy[k] = value;
      return copy;
    };
    if (Array.isArray(current)) holder[key] = current.map(applySub);
    else if (op !== 'remove' || isObject(current)) holder[key] = applySub(current);
    return;
  }

  if (op === 'remove') {
    // Entra ID removes members by value: {"op":"Remove","path":"members","value":[{"value":"id"}]}.
    if (Array.isArray(current) && value !== undefined && value !== null) {
      const values = Array.isArray(value) ? value : [value];
      holder[key] = current.filter(
        (element) =>
          !values.some(
            (v) => sameElement(element, isObject(v) ? v : { value: v }) || sameElement(element, v),
          ),
      );
    } else {
      delete holder[key];
    }
    return;
  }
  if (Array.isArray(current) || Array.isArray(value)) {
    const values = Array.isArray(value) ? value : [value];
    holder[key] = op === 'add' ? appendUnique(Array.isArray(current) ? current : [], values) : values;
    return;
  }
  if (isObject(current) && isObject(value)) {
    holder[key] = merge(current, value);
    return;
  }
  holder[key] = value;
}

/**
 * Applies operations to a copy of `document` and returns it; the caller writes the result in one
 * transaction, so a failing operation leaves nothing changed. The copy is shallow: an operation
 * replaces the values it changes (copying the objects and arrays on its way) and never writes into
 * one it did not copy, so that `document` stays as it was.
 */
export function applyPatch(document: Json, operations: readonly PatchOperation[]): Json {
  const doc: Json = { ...document };
  for (const operation of operations) {
    if (operation.path) {
      applyAt(doc, operation.op, operation.path, operation.value);
      continue;
    }
    if (!isObject(operation.value))
      throw invalidValue(`"${operation.op}" without a path needs an object value.`);
    for (const [k, v] of Object.entries(operation.value)) {
      if (
        /^urn:/i.test(k) &&
        isObject(v) &&
        (k.toLowerCase() === ENTERPRISE_USER_SCHEMA.toLowerCase() || findKey(doc, k.toLowerCase()))
      ) {
        for (const [inner, innerValue] of Object.entries(v))
          applyAt(doc, operation.op, `${k}:${inner}`, innerValue);
      } else if (k.toLowerCase() === 'schemas' || k.toLowerCase() === 'id' || k.toLowerCase() === 'meta') {
        continue;
      } else {
        applyAt(doc, operation.op, k, v);
      }
    }
  }
  return doc;
}
