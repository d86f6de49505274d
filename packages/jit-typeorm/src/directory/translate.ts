import {
  compareValue,
  isDateAttribute,
  parseInstant,
  type AttributePath,
  type CompareOperator,
  type ScimFilter,
  type ScimResourceType,
  type ScimValue,
} from '@jit-sso/core';
import type { JitDialect } from '../schema.js';
import { PREFIX_LENGTH } from './schema.js';

/**
 * Translates the directory filter tree to one parameterised SQL condition over `r` (a row of
 * `jit_scim_resources`) and, for users, `u` (the tenant user, for `active`). It follows the rules of
 * `matchesFilter` in @jit-sso/core exactly (the property tests compare the two):
 * attribute values are found with `IN (SELECT resource_id FROM jit_scim_values …)` on the
 * (directory, attribute, value) index; `ne` and `not` are `NOT IN`; a value path is one element of the
 * attribute (same `elem`) satisfying the inner filter.
 */
export interface TranslateContext {
  dialect: JitDialect;
  type: ScimResourceType;
  directoryId: string;
  quote: (name: string) => string;
  values: string;
  members: string;
  resources: string;
  userStatus: string;
}

export interface Condition {
  sql: string;
  params: unknown[];
}

const FALSE: Condition = { sql: '1 = 0', params: [] };
const TRUE: Condition = { sql: '1 = 1', params: [] };

/** `!` escapes LIKE wildcards (a backslash would itself need escaping in MySQL string literals). */
function likeEscape(value: string): string {
  return value.replace(/[!%_]/g, (c) => `!${c}`);
}

function keyOf(path: AttributePath, sub: string | null = path.sub): string {
  const base = sub === null ? path.name : `${path.name}.${sub}`;
  return path.schema === null ? base : `${path.schema}:${base}`;
}

function topKey(path: AttributePath): string {
  return path.schema === null ? path.name : `${path.schema}:${path.name}`;
}

/** Conditions joined with AND or OR, in parentheses. */
function joined(op: 'and' | 'or', parts: Condition[]): Condition {
  return {
    sql: `(${parts.map((p) => p.sql).join(` ${op.toUpperCase()} `)})`,
    params: parts.flatMap((p) => p.params),
  };
}

function negated(condition: Condition): Condition {
  return { sql: `NOT (${condition.sql})`, params: condition.params };
}

// One closure of about twenty small translators (none over 40 lines), which share the dialect's
// quoting and table names: splitting them into modules would pass that context through every call.
export function translateFilter(filter: ScimFilter, ctx: TranslateContext): Condition {
  const q = ctx.quote;
  const V = ctx.values;
  const binary = ctx.dialect === 'postgres' ? ' COLLATE "C"' : '';

  /** A comparison on a value row `w` (lower-cased text, or number/boolean). */
  function valueCondition(w: string, op: CompareOperator, value: ScimValue): Condition | null {
    if (value === null) return null;
    if (typeof value === 'boolean') {
      if (op !== 'eq') return null;
      return { sql: `${w}.${q('kind')} = 'b' AND ${w}.${q('num')} = ?`, params: [value ? 1 : 0] };
    }
    if (typeof value === 'number') {
      const sqlOp = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' }[op as 'eq'];
      if (!sqlOp) return null;
      return { sql: `${w}.${q('kind')} = 'n' AND ${w}.${q('num')} ${sqlOp} ?`, params: [value] };
    }
    const text = value.toLowerCase();
    const kind = `${w}.${q('kind')} = 's'`;
    const prefix = text.slice(0, PREFIX_LENGTH);
    switch (op) {
      case 'eq':
        return {
          sql: `${kind} AND ${w}.${q('prefix')} = ? AND ${w}.${q('text')} = ?`,
          params: [prefix, text],
        };
      case 'sw':
        return {
          sql: `${kind} AND ${w}.${q('prefix')} LIKE ? ESCAPE '!' AND ${w}.${q('text')} LIKE ? ESCAPE '!'`,
          params: [`${likeEscape(prefix)}%`, `${likeEscape(text)}%`],
        };
      case 'ew':
        return { sql: `${kind} AND ${w}.${q('text')} LIKE ? ESCAPE '!'`, params: [`%${likeEscape(text)}`] };
      case 'co':
        return { sql: `${kind} AND ${w}.${q('text')} LIKE ? ESCAPE '!'`, params: [`%${likeEscape(text)}%`] };
      default: {
        const sqlOp = { gt: '>', ge: '>=', lt: '<', le: '<=' }[op as 'gt'];
        return { sql: `${kind} AND ${w}.${q('text')}${binary} ${sqlOp} ?${binary}`, params: [text] };
      }
    }
  }

  /** Resources having a value of `path` that satisfies `op value`. */
  function hasValue(path: AttributePath, op: CompareOperator, value: ScimValue): Condition {
    const cond = valueCondition('v', op, value);
    if (!cond) return FALSE;
    const attrs = path.sub === null ? [keyOf(path), keyOf(path, 'value')] : [keyOf(path)];
    return {
      sql:
        `r.${q('id')} IN (SELECT v.${q('resource_id')} FROM ${V} v WHERE v.${q('directory_id')} = ? ` +
        `AND v.${q('attr')} IN (${attrs.map(() => '?').join(', ')}) AND ${cond.sql})`,
      params: [ctx.directoryId, ...attrs, ...cond.params],
    };
  }

  function present(path: AttributePath): Condition {
    const nonEmpty = `(v.${q('kind')} <> 's' OR v.${q('text')} <> '')`;
    if (path.sub !== null) {
      return {
        sql: `r.${q('id')} IN (SELECT v.${q('resource_id')} FROM ${V} v WHERE v.${q('directory_id')} = ? AND v.${q('attr')} = ? AND ${nonEmpty})`,
        params: [ctx.directoryId, keyOf(path)],
      };
    }
    return {
      sql: `r.${q('id')} IN (SELECT v.${q('resource_id')} FROM ${V} v WHERE v.${q('directory_id')} = ? AND v.${q('attr_top')} = ? AND ${nonEmpty})`,
      params: [ctx.directoryId, topKey(path)],
    };
  }

  /** A case-exact string column (`id`, `externalId`), never NULL-valued (so that `NOT` stays two-valued). */
  function exactColumn(column: string, op: CompareOperator, value: ScimValue): Condition {
    const inner = exactColumnValue(column, op, value);
    if (inner === FALSE) return FALSE;
    return { sql: `(r.${q(column)} IS NOT NULL AND ${inner.sql})`, params: inner.params };
  }

  function exactColumnValue(column: string, op: CompareOperator, value: ScimValue): Condition {
    if (typeof value !== 'string') return FALSE;
    if (value === '' && (op === 'sw' || op === 'ew' || op === 'co'))
      return { sql: `r.${q(column)} IS NOT NULL`, params: [] };
    const c = `r.${q(column)}`;
    const mysqlBin = ctx.dialect === 'mysql' ? ' COLLATE utf8mb4_bin' : '';
    switch (op) {
      case 'eq':
        return { sql: `${c} = ?`, params: [value] };
      case 'sw':
        return { sql: `substr(${c}, 1, ?) = ?`, params: [value.length, value] };
      case 'ew':
        return ctx.dialect === 'sqlite'
          ? { sql: `substr(${c}, -?) = ?`, params: [value.length, value] }
          : { sql: `right(${c}, ?) = ?`, params: [value.length, value] };
      case 'co':
        return ctx.dialect === 'sqlite'
          ? { sql: `instr(${c}, ?) > 0`, params: [value] }
          : ctx.dialect === 'postgres'
            ? { sql: `strpos(${c}, ?) > 0`, params: [value] }
            : { sql: `locate(?${mysqlBin}, ${c}${mysqlBin}) > 0`, params: [value] };
      default: {
        const sqlOp = { gt: '>', ge: '>=', lt: '<', le: '<=' }[op as 'gt'];
        return { sql: `${c}${binary} ${sqlOp} ?${binary}`, params: [value] };
      }
    }
  }

  /** The lower-cased name column (`userName` of users, `displayName` of groups). */
  function nameColumn(op: CompareOperator, value: ScimValue): Condition {
    if (typeof value !== 'string') return FALSE;
    const c = `r.${q('name_key')}`;
    const text = value.toLowerCase();
    switch (op) {
      case 'eq':
        // A user's name key is also in the unique (directory, user_name_key) index: at most one row.
        return { sql: `r.${q(ctx.type === 'User' ? 'user_name_key' : 'name_key')} = ?`, params: [text] };
      case 'sw':
        return { sql: `${c} LIKE ? ESCAPE '!'`, params: [`${likeEscape(text)}%`] };
      case 'ew':
        return { sql: `${c} LIKE ? ESCAPE '!'`, params: [`%${likeEscape(text)}`] };
      case 'co':
        return { sql: `${c} LIKE ? ESCAPE '!'`, params: [`%${likeEscape(text)}%`] };
      default: {
        const sqlOp = { gt: '>', ge: '>=', lt: '<', le: '<=' }[op as 'gt'];
        return { sql: `${c}${binary} ${sqlOp} ?${binary}`, params: [text] };
      }
    }
  }

  function instantColumn(column: string, op: CompareOperator, value: ScimValue): Condition {
    const at = parseInstant(value);
    const sqlOp = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' }[op as 'eq'];
    if (at === null || !sqlOp) return FALSE;
    return { sql: `r.${q(column)} ${sqlOp} ?`, params: [at] };
  }

  /**
   * The multi-valued attributes kept as rows of `jit_scim_members`: a group's `members` and a user's
   * `groups`. `select` yields the ids of the resources with an element satisfying a condition on
   * the row (`m`, and the group `g` for `groups`); `fields` are the elements' sub-attributes as
   * lower-cased text. A group's members are searched on the (directory, member key) and
   * (directory, display key) indexes; a user's groups from the directory's groups (few), each
   * group's members on the table's key.
   */
  interface Relation {
    select: string;
    params: unknown[];
    fields: Record<string, string>;
  }

  function relation(path: AttributePath): Relation | null {
    if (path.schema !== null) return null;
    const M = ctx.members;
    if (ctx.type === 'Group' && path.name === 'members') {
      return {
        select: `SELECT m.${q('group_id')} FROM ${M} m WHERE m.${q('directory_id')} = ?`,
        params: [ctx.directoryId],
        fields: { value: `m.${q('member_key')}`, display: `m.${q('display_key')}`, type: `'user'` },
      };
    }
    if (ctx.type === 'User' && path.name === 'groups') {
      return {
        select:
          `SELECT m.${q('member_id')} FROM ${ctx.resources} g JOIN ${M} m ON m.${q('group_id')} = g.${q('id')} ` +
          `WHERE g.${q('directory_id')} = ? AND g.${q('type')} = 'Group'`,
        params: [ctx.directoryId],
        fields: {
          value: `lower(g.${q('id')})`,
          display: `g.${q('name_key')}`,
          type: `'direct'`,
        },
      };
    }
    return null;
  }

  /** A comparison of a lower-cased text expression that may be NULL (never matching then). */
  function textCondition(e: string, op: CompareOperator, value: ScimValue): Condition | null {
    if (typeof value !== 'string') return null;
    const text = value.toLowerCase();
    const like = (pattern: string) => ({
      sql: `${e} IS NOT NULL AND ${e} LIKE ? ESCAPE '!'`,
      params: [pattern],
    });
    switch (op) {
      case 'eq':
        return { sql: `${e} IS NOT NULL AND ${e} = ?`, params: [text] };
      case 'sw':
        return like(`${likeEscape(text)}%`);
      case 'ew':
        return like(`%${likeEscape(text)}`);
      case 'co':
        return like(`%${likeEscape(text)}%`);
      default: {
        const sqlOp = { gt: '>', ge: '>=', lt: '<', le: '<=' }[op as 'gt'];
        return sqlOp
          ? { sql: `${e} IS NOT NULL AND ${e}${binary} ${sqlOp} ?${binary}`, params: [text] }
          : null;
      }
    }
  }

  /** The resources with an element of `rel` satisfying `cond`. */
  function anyElement(rel: Relation, cond: Condition): Condition {
    return {
      sql: `r.${q('id')} IN (${rel.select} AND (${cond.sql}))`,
      params: [...rel.params, ...cond.params],
    };
  }

  /** A filter inside `members[…]` / `groups[…]`, on one row of the relation. */
  function relationElement(rel: Relation, f: ScimFilter): Condition {
    switch (f.op) {
      case 'and':
      case 'or': {
        return joined(
          f.op,
          f.filters.map((x) => relationElement(rel, x)),
        );
      }
      case 'not': {
        return negated(relationElement(rel, f.filter));
      }
      case 'has':
        return FALSE;
      case 'pr': {
        const field =
          f.attribute.schema === null && f.attribute.sub === null ? rel.fields[f.attribute.name] : undefined;
        return field ? { sql: `(${field} IS NOT NULL AND ${field} <> '')`, params: [] } : FALSE;
      }
      default: {
        const field =
          f.attribute.schema === null && f.attribute.sub === null ? rel.fields[f.attribute.name] : undefined;
        const cond = field ? textCondition(field, f.op === 'ne' ? 'eq' : f.op, f.value) : null;
        if (f.op === 'ne') return cond ? negated(cond) : TRUE;
        return cond ? { sql: `(${cond.sql})`, params: cond.params } : FALSE;
      }
    }
  }

  /** Attributes kept in columns rather than in the stored JSON. */
  function special(
    path: AttributePath,
  ): 'id' | 'externalId' | 'name' | 'active' | 'meta' | 'relation' | null {
    if (path.schema !== null) return null;
    if (path.name === 'id' && path.sub === null) return 'id';
    if (path.name === 'externalid' && path.sub === null) return 'externalId';
    if (ctx.type === 'User' && path.name === 'username' && path.sub === null) return 'name';
    if (ctx.type === 'Group' && path.name === 'displayname' && path.sub === null) return 'name';
    if (ctx.type === 'User' && path.name === 'active' && path.sub === null) return 'active';
    if (path.name === 'meta') return 'meta';
    if (relation(path)) return 'relation';
    return null;
  }

  function compare(path: AttributePath, op: CompareOperator, value: ScimValue): Condition {
    if (value === null) return FALSE;
    switch (special(path)) {
      case 'id':
        return exactColumn('id', op, value);
      case 'externalId':
        return exactColumn('external_id', op, value);
      case 'name':
        return nameColumn(op, value);
      case 'active':
        if (typeof value !== 'boolean' || op !== 'eq') return FALSE;
        return { sql: `u.${q(ctx.userStatus)} ${value ? '=' : '<>'} 'active'`, params: [] };
      case 'meta':
        if (isDateAttribute(path))
          return instantColumn(path.sub === 'created' ? 'created_at' : 'updated_at', op, value);
        if (path.sub === 'resourcetype') return compareValue(op, path, ctx.type, value) ? TRUE : FALSE;
        return FALSE;
      case 'relation': {
        const rel = relation(path)!;
        const field = rel.fields[path.sub ?? 'value'];
        const cond = field ? textCondition(field, op, value) : null;
        return cond ? anyElement(rel, cond) : FALSE;
      }
      default:
        return hasValue(path, op, value);
    }
  }

  function presence(path: AttributePath): Condition {
    switch (special(path)) {
      case 'id':
      case 'active':
      case 'name':
        return TRUE;
      case 'externalId':
        return { sql: `(r.${q('external_id')} IS NOT NULL AND r.${q('external_id')} <> '')`, params: [] };
      case 'meta':
        return path.sub === null ||
          path.sub === 'created' ||
          path.sub === 'lastmodified' ||
          path.sub === 'resourcetype'
          ? TRUE
          : FALSE;
      case 'relation': {
        const rel = relation(path)!;
        if (path.sub === null) return { sql: `r.${q('id')} IN (${rel.select})`, params: rel.params };
        const field = rel.fields[path.sub];
        return field
          ? anyElement(rel, { sql: `${field} IS NOT NULL AND ${field} <> ''`, params: [] })
          : FALSE;
      }
      default:
        return present(path);
    }
  }

  /** Inside a value path: a condition on the element (`v.resource_id`, `v.elem`) of `top`. */
  function element(f: ScimFilter, top: AttributePath): Condition {
    switch (f.op) {
      case 'and':
      case 'or': {
        return joined(
          f.op,
          f.filters.map((x) => element(x, top)),
        );
      }
      case 'not': {
        return negated(element(f.filter, top));
      }
      case 'has':
        return FALSE;
      case 'pr': {
        if (f.attribute.schema !== null || f.attribute.sub !== null) return FALSE;
        return {
          sql:
            `EXISTS (SELECT 1 FROM ${V} w WHERE w.${q('resource_id')} = v.${q('resource_id')} AND w.${q('elem')} = v.${q('elem')} ` +
            `AND w.${q('attr')} = ? AND (w.${q('kind')} <> 's' OR w.${q('text')} <> ''))`,
          params: [keyOf(top, f.attribute.name)],
        };
      }
      default: {
        if (f.attribute.schema !== null || f.attribute.sub !== null) return f.op === 'ne' ? TRUE : FALSE;
        const eqOrOp = f.op === 'ne' ? 'eq' : f.op;
        const cond = valueCondition('w', eqOrOp, f.value);
        const exists = cond
          ? {
              sql:
                `EXISTS (SELECT 1 FROM ${V} w WHERE w.${q('resource_id')} = v.${q('resource_id')} AND w.${q('elem')} = v.${q('elem')} ` +
                `AND w.${q('attr')} = ? AND ${cond.sql})`,
              params: [keyOf(top, f.attribute.name), ...cond.params],
            }
          : FALSE;
        return f.op === 'ne' ? negated(exists) : exists;
      }
    }
  }

  function valuePath(path: AttributePath, inner: ScimFilter): Condition {
    const rel = relation(path);
    if (rel) return anyElement(rel, relationElement(rel, inner));
    if (special(path) !== null) return FALSE;
    const cond = element(inner, path);
    return {
      sql:
        `r.${q('id')} IN (SELECT v.${q('resource_id')} FROM ${V} v WHERE v.${q('directory_id')} = ? AND v.${q('attr_top')} = ? ` +
        `AND v.${q('attr')} <> v.${q('attr_top')} AND ${cond.sql})`,
      params: [ctx.directoryId, topKey(path), ...cond.params],
    };
  }

  function walk(f: ScimFilter): Condition {
    switch (f.op) {
      case 'and':
      case 'or': {
        return joined(f.op, f.filters.map(walk));
      }
      case 'not': {
        return negated(walk(f.filter));
      }
      case 'pr':
        return presence(f.attribute);
      case 'has':
        return valuePath(f.attribute, f.filter);
      case 'ne': {
        return negated(compare(f.attribute, 'eq', f.value));
      }
      default:
        return compare(f.attribute, f.op, f.value);
    }
  }

  return walk(filter);
}
