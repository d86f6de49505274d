import { ENTERPRISE_USER_SCHEMA } from '@jit-sso/core';
import { GROUP_SCHEMA, SCHEMA_ATTRIBUTES, USER_SCHEMA } from './discovery.js';
import { invalidValue } from './errors.js';

type Json = Record<string, unknown>;

/** An attribute as `discovery.ts` publishes it in `/Schemas`. */
interface Attribute {
  name: string;
  type: string;
  multiValued: boolean;
  subAttributes?: Attribute[];
}

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const CORE: Record<'User' | 'Group', string> = { User: USER_SCHEMA, Group: GROUP_SCHEMA };
/** The schemas a resource type may list besides its core schema (RFC 7643 §6, `schemaExtensions`). */
const EXTENSIONS: Record<'User' | 'Group', string[]> = { User: [ENTERPRISE_USER_SCHEMA], Group: [] };
/** Schemas this service knows; an unknown URN in `schemas` names an extension kept as sent. */
const KNOWN = [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA].map((s) => s.toLowerCase());

/**
 * Attributes the service reads itself (with their own checks in `resources.ts`), or ignores as
 * RFC 7643 says for read-only and write-only ones.
 */
const OWN: Record<'User' | 'Group', Set<string>> = {
  User: new Set(['id', 'meta', 'schemas', 'username', 'externalid', 'active', 'groups', 'password']),
  Group: new Set(['id', 'meta', 'schemas', 'displayname', 'externalid', 'members']),
};

/**
 * Sub-attributes every multi-valued attribute may carry (RFC 7643 §2.4), whether or not its schema
 * lists them.
 */
const MULTI_VALUED_DEFAULTS: Attribute[] = ['type', 'display', 'value', '$ref'].map((name) => ({
  name,
  type: 'string',
  multiValued: false,
}));

/** Attributes by lower-cased name, built once per list (the schemas are constant). */
const indexes = new WeakMap<readonly Attribute[], Map<string, Attribute>>();

function byName(attributes: readonly Attribute[], name: string): Attribute | undefined {
  let index = indexes.get(attributes);
  if (!index) {
    index = new Map();
    for (const a of attributes) {
      const lower = a.name.toLowerCase();
      if (!index.has(lower)) index.set(lower, a);
    }
    indexes.set(attributes, index);
  }
  return index.get(name.toLowerCase());
}

/** The sub-attributes a complex attribute's values may carry, once per attribute. */
const subAttributeLists = new WeakMap<Attribute, Attribute[]>();

function subAttributesOf(attribute: Attribute): Attribute[] {
  let list = subAttributeLists.get(attribute);
  if (!list) {
    list = [...(attribute.subAttributes ?? []), ...(attribute.multiValued ? MULTI_VALUED_DEFAULTS : [])];
    subAttributeLists.set(attribute, list);
  }
  return list;
}

const attributesOf = (schema: string) => SCHEMA_ATTRIBUTES.get(schema) as unknown as readonly Attribute[];

const CORE_LOWER: Record<'User' | 'Group', string> = {
  User: USER_SCHEMA.toLowerCase(),
  Group: GROUP_SCHEMA.toLowerCase(),
};
const ALLOWED: Record<'User' | 'Group', string[]> = {
  User: [USER_SCHEMA, ...EXTENSIONS.User].map((s) => s.toLowerCase()),
  Group: [GROUP_SCHEMA, ...EXTENSIONS.Group].map((s) => s.toLowerCase()),
};

/**
 * `schemas`, when the body has it, lists the resource type's core schema and no schema of another
 * resource type; other URNs name extensions, kept as sent.
 */
function checkSchemas(body: Json, type: 'User' | 'Group'): void {
  const key = Object.keys(body).find((k) => k.toLowerCase() === 'schemas');
  if (key === undefined) return;
  const schemas = body[key];
  if (!Array.isArray(schemas) || !schemas.every((s) => typeof s === 'string'))
    throw invalidValue('"schemas" must be an array of schema URIs.');
  const lower = schemas.map((s: string) => s.toLowerCase());
  if (!lower.includes(CORE_LOWER[type]))
    throw invalidValue(`"schemas" must include "${CORE[type]}" for a ${type}.`);
  const allowed = ALLOWED[type];
  const foreign = schemas.find(
    (s: string) => KNOWN.includes(s.toLowerCase()) && !allowed.includes(s.toLowerCase()),
  );
  if (foreign) throw invalidValue(`"schemas" lists "${foreign}", which is not a schema of a ${type}.`);
}

function checkSimple(attribute: Attribute, value: unknown, path: string): void {
  if (value === null) return; // RFC 7643 §2.5: null is "unassigned"
  if (attribute.type === 'boolean') {
    // Entra ID sends "True"/"False".
    if (typeof value === 'boolean') return;
    if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return;
    throw invalidValue(`"${path}" must be a boolean.`);
  }
  if (typeof value !== 'string') throw invalidValue(`"${path}" must be a string.`);
}

function checkComplex(attribute: Attribute, value: Json, path: string): void {
  const subAttributes = subAttributesOf(attribute);
  for (const [key, sub] of Object.entries(value)) {
    const definition = byName(subAttributes, key);
    if (!definition)
      throw invalidValue(
        `"${path}" has a sub-attribute "${key}" that the ${attribute.name} schema does not define.`,
      );
    checkSimple(definition, sub, `${path}.${key}`);
  }
}

function checkAttribute(attribute: Attribute, value: unknown, path: string): void {
  if (value === null) return;
  if (attribute.multiValued) {
    if (!Array.isArray(value)) throw invalidValue(`"${path}" is multi-valued: it must be an array.`);
    value.forEach((element, i) => {
      const at = `${path}[${i}]`;
      if (attribute.subAttributes) {
        if (!isObject(element)) throw invalidValue(`"${at}" must be an object with a "value".`);
        checkComplex(attribute, element, at);
      } else {
        checkSimple(attribute, element, at);
      }
    });
    return;
  }
  if (attribute.subAttributes) {
    // Entra ID sets the enterprise manager by its id alone.
    if (attribute.name === 'manager' && typeof value === 'string') return;
    if (!isObject(value)) throw invalidValue(`"${path}" must be an object.`);
    checkComplex(attribute, value, path);
    return;
  }
  checkSimple(attribute, value, path);
}

/**
 * Checks a User or Group body against the published schemas: the types of the core and enterprise
 * attributes, the sub-attributes of complex ones, and `schemas`. Attributes no schema defines (at
 * the top level or in an unknown extension) are kept as sent, within the input limits.
 */
export function checkResource(body: Json, type: 'User' | 'Group'): void {
  checkSchemas(body, type);
  const core = attributesOf(CORE[type]);
  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase();
    if (OWN[type].has(lower)) continue;
    const extension = EXTENSIONS[type].find((s) => s.toLowerCase() === lower);
    if (extension) {
      if (value === null) continue;
      if (!isObject(value)) throw invalidValue(`"${key}" must be an object of the extension's attributes.`);
      const attributes = attributesOf(extension);
      for (const [name, inner] of Object.entries(value)) {
        const attribute = byName(attributes, name);
        if (attribute) checkAttribute(attribute, inner, `${key}:${name}`);
      }
      continue;
    }
    const attribute = byName(core, key);
    if (attribute) checkAttribute(attribute, value, key);
  }
}
