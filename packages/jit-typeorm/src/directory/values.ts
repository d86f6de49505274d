import { PREFIX_LENGTH } from './schema.js';

/** One simple value of a resource, as `jit_scim_values` keeps it. */
export interface ValueRow {
  attr: string;
  attrTop: string;
  elem: number;
  kind: 's' | 'n' | 'b';
  prefix: string | null;
  text: string | null;
  num: number | null;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function simple(attr: string, attrTop: string, elem: number, value: unknown, out: ValueRow[]): void {
  if (typeof value === 'string') {
    const text = value.toLowerCase();
    out.push({ attr, attrTop, elem, kind: 's', prefix: text.slice(0, PREFIX_LENGTH), text, num: null });
  } else if (typeof value === 'number' && Number.isFinite(value)) {
    out.push({ attr, attrTop, elem, kind: 'n', prefix: null, text: null, num: value });
  } else if (typeof value === 'boolean') {
    out.push({ attr, attrTop, elem, kind: 'b', prefix: null, text: null, num: value ? 1 : 0 });
  } else if (Array.isArray(value)) {
    for (const v of value) if (!Array.isArray(v) && !isObject(v)) simple(attr, attrTop, elem, v, out);
  }
}

function complex(top: string, elem: number, value: Record<string, unknown>, out: ValueRow[]): void {
  for (const [sub, v] of Object.entries(value)) {
    if (isObject(v)) continue; // deeper nesting is not addressable by SCIM paths
    simple(`${top}.${sub.toLowerCase()}`, top, elem, v, out);
  }
}

function attribute(top: string, value: unknown, out: ValueRow[]): void {
  if (Array.isArray(value)) {
    value.forEach((element, i) =>
      isObject(element) ? complex(top, i, element, out) : simple(top, top, i, element, out),
    );
  } else if (isObject(value)) {
    complex(top, -1, value, out);
  } else {
    simple(top, top, -1, value, out);
  }
}

/**
 * The rows of a resource's stored JSON (lower-cased names; extension attributes prefixed with the
 * lower-cased schema URN and `:`). Names longer than the column are left out (not filterable).
 */
export function valueRows(data: Readonly<Record<string, unknown>>): ValueRow[] {
  const out: ValueRow[] = [];
  for (const [key, value] of Object.entries(data)) {
    const lower = key.toLowerCase();
    if (/^urn:/.test(lower) && isObject(value)) {
      for (const [name, inner] of Object.entries(value))
        attribute(`${lower}:${name.toLowerCase()}`, inner, out);
    } else {
      attribute(lower, value, out);
    }
  }
  return out.filter((row) => row.attr.length <= 160);
}
