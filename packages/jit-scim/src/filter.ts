import type { AttributePath, CompareOperator, ScimFilter, ScimValue } from '@jit-sso/core';
import { invalidFilter, invalidPath, invalidValue } from './errors.js';
import { unstorable } from './limits.js';

/**
 * The RFC 7644 §3.4.2.2 filter grammar, as directories really send it:
 * - operators and attribute names in any case (`userName EQ "x"`, `DisplayName`);
 * - quoted values (JSON strings), numbers, `true`/`false`/`null`, and unquoted values
 *   (`userName sw O`, `meta.created gt 2015-10-10T14:38:21.8617979-07:00`), which are strings;
 * - `and` binds tighter than `or`; `not` takes a parenthesised filter, or (leniently) one expression;
 * - value paths `emails[type eq "work" and value co "@acme.com"]`, and schema URN prefixes
 *   (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`).
 */

const COMPARE = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const CORE_SCHEMAS = new Set([
  'urn:ietf:params:scim:schemas:core:2.0:user',
  'urn:ietf:params:scim:schemas:core:2.0:group',
]);
const NAME = /^[A-Za-z$_-][\w$-]*$/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const MAX_LENGTH = 8192;
const MAX_DEPTH = 32;

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: '(' | ')' | '[' | ']'; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ kind: c, at: i });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== '"') j += source[j] === '\\' ? 2 : 1;
      if (j >= source.length) throw invalidFilter(`Unterminated string starting at position ${i + 1}.`);
      let text: string;
      try {
        text = JSON.parse(source.slice(i, j + 1)) as string;
      } catch {
        throw invalidFilter(`Invalid string at position ${i + 1}.`);
      }
      // Compared in SQL: PostgreSQL refuses a NUL, escaped (\u0000) or not.
      const problem = unstorable(text);
      if (problem) throw invalidValue(`The filter value at position ${i + 1} ${problem}.`);
      tokens.push({ kind: 'string', text, at: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < source.length && !' \t\n\r()[]"'.includes(source[j]!)) j++;
      tokens.push({ kind: 'word', text: source.slice(i, j), at: i });
      i = j;
    }
  }
  return tokens;
}

/** Parses `name`, `name.sub` or `urn:...:name[.sub]` (case-insensitive; the result is lower-cased). */
export function parseAttributePath(text: string): AttributePath {
  let schema: string | null = null;
  let rest = text;
  if (/^urn:/i.test(text)) {
    const colon = text.lastIndexOf(':');
    schema = text.slice(0, colon).toLowerCase();
    rest = text.slice(colon + 1);
    if (CORE_SCHEMAS.has(schema)) schema = null;
  }
  const parts = rest.split('.');
  if (parts.length > 2 || !parts.every((p) => NAME.test(p)))
    throw invalidPath(`"${text}" is not an attribute name.`);
  return { schema, name: parts[0]!.toLowerCase(), sub: parts[1]?.toLowerCase() ?? null };
}

function literal(token: Token): ScimValue {
  if (token.kind === 'string') return token.text;
  if (token.kind !== 'word') throw invalidFilter(`Expected a value at position ${token.at + 1}.`);
  const lower = token.text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (NUMBER.test(token.text)) return Number(token.text);
  return token.text;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }

  private isWord(token: Token | undefined, ...words: string[]): boolean {
    return token?.kind === 'word' && words.includes(token.text.toLowerCase());
  }

  private fail(message: string): never {
    const token = this.peek();
    const where = token ? `at position ${token.at + 1}` : 'at the end';
    throw invalidFilter(`${message} ${where} of filter "${this.source}".`);
  }

  parseFilter(inValuePath: boolean): ScimFilter {
    if (++this.depth > MAX_DEPTH) this.fail('The filter is nested too deeply');
    const filters = [this.parseAnd(inValuePath)];
    while (this.isWord(this.peek(), 'or')) {
      this.i++;
      filters.push(this.parseAnd(inValuePath));
    }
    this.depth--;
    return filters.length === 1 ? filters[0]! : { op: 'or', filters };
  }

  private parseAnd(inValuePath: boolean): ScimFilter {
    const filters = [this.parseUnary(inValuePath)];
    while (this.isWord(this.peek(), 'and')) {
      this.i++;
      filters.push(this.parseUnary(inValuePath));
    }
    return filters.length === 1 ? filters[0]! : { op: 'and', filters };
  }

  private parseUnary(inValuePath: boolean): ScimFilter {
    const token = this.peek();
    if (this.isWord(token, 'not')) {
      const next = this.peek(1);
      // `not (...)`, or `not attr op ...`; otherwise `not` is an attribute's name (`not pr`).
      const after = this.peek(2);
      if (
        next?.kind === '(' ||
        (after &&
          (this.isWord(after, 'pr') || (after.kind === 'word' && COMPARE.has(after.text.toLowerCase()))))
      ) {
        this.i++;
        return { op: 'not', filter: this.parseUnary(inValuePath) };
      }
    }
    if (token?.kind === '(') {
      this.i++;
      const inner = this.parseFilter(inValuePath);
      if (this.peek()?.kind !== ')') this.fail('Expected ")"');
      this.i++;
      return inner;
    }
    return this.parseExpression(inValuePath);
  }

  private parseExpression(inValuePath: boolean): ScimFilter {
    const token = this.peek();
    if (token?.kind !== 'word') this.fail('Expected an attribute name');
    this.i++;
    let attribute: AttributePath;
    try {
      attribute = parseAttributePath(token.text);
    } catch {
      this.fail(`"${token.text}" is not an attribute name`);
    }
    if (this.peek()?.kind === '[') {
      if (inValuePath) this.fail('Value paths cannot be nested');
      if (attribute.sub !== null) this.fail('A value path must name a top-level attribute');
      this.i++;
      const filter = this.parseFilter(true);
      if (this.peek()?.kind !== ']') this.fail('Expected "]"');
      this.i++;
      return { op: 'has', attribute, filter };
    }
    const operator = this.peek();
    if (operator?.kind !== 'word') this.fail('Expected an operator');
    const op = operator.text.toLowerCase();
    this.i++;
    if (op === 'pr') return { op: 'pr', attribute };
    if (!COMPARE.has(op)) {
      this.i--;
      this.fail(`Unknown operator "${operator.text}"`);
    }
    const value = this.peek();
    if (!value || (value.kind !== 'word' && value.kind !== 'string')) this.fail('Expected a value');
    this.i++;
    return { op: op as CompareOperator, attribute, value: literal(value) };
  }

  end(): void {
    if (this.i < this.tokens.length) this.fail('Unexpected input');
  }
}

/** Parses a filter, throwing a 400 `invalidFilter` `ScimError` that says where it went wrong. */
export function parseFilter(source: string): ScimFilter {
  if (typeof source !== 'string' || !source.trim()) throw invalidFilter('The filter is empty.');
  if (source.length > MAX_LENGTH) throw invalidFilter(`Filters are limited to ${MAX_LENGTH} characters.`);
  const problem = unstorable(source);
  if (problem) throw invalidValue(`The filter ${problem}.`);
  const parser = new Parser(tokenize(source), source);
  const filter = parser.parseFilter(false);
  parser.end();
  return filter;
}

/** A PATCH path (RFC 7644 §3.5.2): `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, with URN prefixes. */
export interface PatchPath {
  readonly attribute: AttributePath;
  readonly filter: ScimFilter | null;
  /** The sub-attribute after a value filter (`emails[type eq "work"].value`). */
  readonly subAfterFilter: string | null;
}

export function parsePatchPath(source: string): PatchPath {
  const text = source.trim();
  const open = text.indexOf('[');
  if (open < 0) return { attribute: parseAttributePath(text), filter: null, subAfterFilter: null };
  const close = text.lastIndexOf(']');
  if (close < open) throw invalidPath(`"${source}" has an unclosed "[".`);
  const attribute = parseAttributePath(text.slice(0, open));
  if (attribute.sub !== null)
    throw invalidPath(`"${source}": a value filter must follow a top-level attribute.`);
  let filter: ScimFilter;
  try {
    filter = new Parser(tokenize(text.slice(open + 1, close)), text).parseFilter(true);
  } catch (error) {
    throw invalidPath(`"${source}" has an invalid value filter: ${(error as Error).message}`);
  }
  const tail = text.slice(close + 1);
  if (tail && !/^\.[A-Za-z$_-][\w$-]*$/.test(tail)) throw invalidPath(`"${source}" is not a valid path.`);
  return { attribute, filter, subAfterFilter: tail ? tail.slice(1).toLowerCase() : null };
}

/** Writes a filter back as text that `parseFilter` reads to the same tree. */
export function formatFilter(filter: ScimFilter): string {
  const path = (a: AttributePath) =>
    (a.schema ? `${a.schema}:` : '') + a.name + (a.sub !== null ? `.${a.sub}` : '');
  switch (filter.op) {
    case 'and':
    case 'or':
      return filter.filters.map((f) => `(${formatFilter(f)})`).join(` ${filter.op} `);
    case 'not':
      return `not (${formatFilter(filter.filter)})`;
    case 'pr':
      return `${path(filter.attribute)} pr`;
    case 'has':
      return `${path(filter.attribute)}[${formatFilter(filter.filter)}]`;
    default:
      return `${path(filter.attribute)} ${filter.op} ${JSON.stringify(filter.value)}`;
  }
}
