/**
 * Parser for the filter part of a query, in Kibana KQL style:
 *
 *   or      := and (OR and)*
 *   and     := not ((AND)? not)*          -- adjacent terms are ANDed
 *   not     := NOT not | primary
 *   primary := "(" or ")" | "phrase" | word | field ":" value
 *   value   := "(" group ")" | (">" | ">=" | "<" | "<=") scalar | scalar
 *   group   := the same or/and/not layers over values of one field
 *
 * Keywords are case-insensitive and are only keywords when unquoted,
 * unescaped and not followed by `:` (so `not:x` filters a field named `not`).
 */
import type { Filter, FilterValue, RangeOp, Span } from './ir.ts';
import { FilterScanner, invalidError, quote, syntaxError } from './lexer.ts';
import type { FilterWord } from './lexer.ts';
import { QueryBudget } from './limits.ts';

/** Where the embedded filter of `countif(...)` was opened, for the "unclosed" error. */
export interface EmbeddedClose {
  /** What was opened, e.g. `countif(`. */
  readonly label: string;
  readonly position: number;
}

export interface FilterParse {
  /** `{ kind: 'all' }` when the filter is empty. */
  readonly filter: Filter;
  /** Offset where the filter stopped: end of text, a `|`, or (embedded) the closing `)`. */
  readonly end: number;
}

/**
 * Parses a filter starting at `start` in `text`. At the top of a query the
 * filter ends at the first `|` outside quotes or at the end of the text.
 * With `embedded` it is the inside of `countif(...)` and ends at the `)`
 * that closes it, which is not consumed.
 */
export function parseFilterAt(
  text: string,
  start: number,
  embedded?: EmbeddedClose,
  budget: QueryBudget = new QueryBudget(),
): FilterParse {
  const parser = new FilterParser(new FilterScanner(text, start), embedded, budget);
  return parser.parseAll();
}

/** A field name: dotted parts of letters, digits and `_`, optionally starting with `@`. */
const FIELD_NAME = /^@?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;

type Keyword = 'and' | 'or' | 'not';

/** One boolean layer: how to read a primary term, and whether words there stop at `:`. */
interface Layer {
  readonly primary: (after: string | undefined) => Filter;
  readonly stopAtColon: boolean;
}

class FilterParser {
  private readonly s: FilterScanner;
  private readonly embedded: EmbeddedClose | undefined;
  private readonly budget: QueryBudget;
  private readonly top: Layer = { primary: (after) => this.parsePrimary(after), stopAtColon: true };

  constructor(scanner: FilterScanner, embedded: EmbeddedClose | undefined, budget: QueryBudget) {
    this.s = scanner;
    this.embedded = embedded;
    this.budget = budget;
  }

  parseAll(): FilterParse {
    this.s.skipSpace();
    if (this.atFilterEnd()) return { filter: { kind: 'all' }, end: this.s.pos };
    const filter = this.parseOr(this.top, undefined);
    this.s.skipSpace();
    const ch = this.s.peekChar();
    if (this.embedded === undefined && ch === ')') {
      throw syntaxError(`Unexpected ")" at position ${this.s.pos}: there is no "(" for it to close`, this.s.pos);
    }
    if (this.embedded !== undefined && ch !== ')') {
      const { label, position } = this.embedded;
      throw syntaxError(
        `Expected ")" to close ${quote(label)} at position ${position} but found ${this.describeHere()}`,
        position,
      );
    }
    return { filter, end: this.s.pos };
  }

  /** True at the end of the filter text: end of query or `|`, or `)` when embedded. */
  private atFilterEnd(): boolean {
    const ch = this.s.peekChar();
    return ch === undefined || ch === '|' || (this.embedded !== undefined && ch === ')');
  }

  // -- boolean layers, shared by the top level and by `field:( ... )` groups --

  private parseOr(layer: Layer, after: string | undefined): Filter {
    const items = [this.parseAnd(layer, after)];
    for (;;) {
      const kw = this.keywordHere();
      if (kw?.keyword !== 'or') break;
      this.s.pos = kw.end;
      items.push(this.parseAnd(layer, quote(kw.raw)));
    }
    return combine('or', items);
  }

  private parseAnd(layer: Layer, after: string | undefined): Filter {
    const items = [this.parseNot(layer, after)];
    for (;;) {
      const kw = this.keywordHere();
      if (kw?.keyword === 'and') {
        this.s.pos = kw.end;
        items.push(this.parseNot(layer, quote(kw.raw)));
        continue;
      }
      // Implicit AND: another term follows directly (`a:1 b:2`).
      if (kw?.keyword === 'or' || !this.startsTerm()) break;
      items.push(this.parseNot(layer, undefined));
    }
    return combine('and', items);
  }

  private parseNot(layer: Layer, after: string | undefined): Filter {
    const kw = this.keywordHere();
    if (kw?.keyword === 'not') {
      const start = this.s.pos;
      this.s.pos = kw.end;
      this.budget.enter(start);
      const item = this.parseNot(layer, quote(kw.raw));
      this.budget.leave();
      return { kind: 'not', item };
    }
    return layer.primary(after);
  }

  /**
   * The keyword at the cursor (after whitespace), without consuming it. A
   * keyword is unquoted, unescaped and not followed by `:` (which would make
   * it a field name), in every layer.
   */
  private keywordHere(): { keyword: Keyword; end: number; raw: string } | undefined {
    this.s.skipSpace();
    const keyword = this.s.keywordAt();
    if (keyword === undefined) return undefined;
    const end = this.s.pos + keyword.length;
    return { keyword, end, raw: this.s.text.slice(this.s.pos, end) };
  }

  private startsTerm(): boolean {
    this.s.skipSpace();
    const ch = this.s.peekChar();
    return ch !== undefined && ch !== ')' && ch !== '|';
  }

  // -- top-level terms --

  private parsePrimary(after: string | undefined): Filter {
    this.s.skipSpace();
    const ch = this.s.peekChar();
    if (ch === undefined || ch === ')' || ch === '|') throw this.expectedHere('a filter term', after);
    if (ch === '(') return this.parseParenthesized((a) => this.parseOr(this.top, a));
    if (ch === '"') {
      this.budget.term(this.s.pos);
      const phrase = this.s.readQuoted();
      return { kind: 'text', value: { text: phrase.text, quoted: true }, span: span(phrase) };
    }
    const word = this.s.readWord(true);
    if (word.raw === '') throw this.expectedHere('a filter term', after);
    if (!word.escaped && /^(and|or)$/i.test(word.text)) {
      throw syntaxError(`Expected a filter term${afterText(after)} but found ${quote(word.raw)}`, word.start);
    }
    if (this.s.peekChar() === ':') return this.parseFieldTerm(word);
    this.rejectGlued(word);
    this.budget.term(word.start);
    if (word.raw === '*') return { kind: 'all' };
    return { kind: 'text', value: wordValue(word), span: span(word) };
  }

  /** `( inner )`, with the error for a missing `)` pointing at the `(`. */
  private parseParenthesized(inner: (after: string) => Filter): Filter {
    const open = this.s.pos;
    this.s.pos++;
    this.budget.enter(open);
    const filter = inner('"("');
    this.budget.leave();
    this.s.skipSpace();
    if (this.s.peekChar() !== ')') {
      throw syntaxError(`Expected ")" to close "(" at position ${open} but found ${this.describeHere()}`, open);
    }
    this.s.pos++;
    return filter;
  }

  /** `field:` has been read up to the colon. */
  private parseFieldTerm(name: FilterWord): Filter {
    if (name.escaped || !FIELD_NAME.test(name.text)) {
      throw syntaxError(
        `Expected a field name before ":" (letters, digits, "_" and "." parts, optionally starting with "@") ` +
          `but found ${quote(name.raw)}; to search for text containing ":", quote it or write "\\:"`,
        name.start,
      );
    }
    this.s.pos++; // the colon
    this.s.skipSpace();
    const field = name.text;
    const label = `${field}:`;
    if (this.s.peekChar() === '(') {
      const group: Layer = { primary: (after) => this.parseGroupItem(field, after), stopAtColon: false };
      return this.parseParenthesized((after) => this.parseOr(group, after));
    }
    return this.parseFieldValue(field, name.start, quote(label), label);
  }

  /** One value inside `field:( ... )`. */
  private parseGroupItem(field: string, after: string | undefined): Filter {
    this.s.skipSpace();
    const ch = this.s.peekChar();
    if (ch === '(') {
      const group: Layer = { primary: (a) => this.parseGroupItem(field, a), stopAtColon: false };
      return this.parseParenthesized((a) => this.parseOr(group, a));
    }
    const word = this.s.peekWord(false);
    if (!word.escaped && /^(and|or)$/i.test(word.text)) {
      throw syntaxError(
        `Expected a value for ${quote(field)}${afterText(after)} but found ${quote(word.raw)}`,
        word.start,
      );
    }
    return this.parseFieldValue(field, this.s.pos, after ?? quote(`${field}:(`), '');
  }

  /**
   * A value, range or `*` for `field`, at the cursor. `start` is where the
   * span starts (the field name, or the value inside a group). `after`
   * describes what came before, for "Expected a value after ..."; a range
   * operator is described as `rangePrefix` followed by the operator.
   */
  private parseFieldValue(field: string, start: number, after: string, rangePrefix: string): Filter {
    this.s.skipSpace();
    this.budget.term(this.s.pos);
    const ch = this.s.peekChar();
    if (ch === '>' || ch === '<') return this.parseRange(field, start, rangePrefix);
    if (ch === '"') {
      const phrase = this.s.readQuoted();
      return { kind: 'match', field, value: { text: phrase.text, quoted: true }, span: { start, end: phrase.end } };
    }
    const word = this.s.readWord(false);
    if (word.raw === '') throw this.expectedHere('a value', after);
    this.rejectGlued(word);
    if (word.raw === '*') return { kind: 'exists', field, span: { start, end: word.end } };
    return { kind: 'match', field, value: wordValue(word), span: { start, end: word.end } };
  }

  private parseRange(field: string, start: number, rangePrefix: string): Filter {
    const first = this.s.peekChar() === '>' ? '>' : '<';
    const op: RangeOp = this.s.peekChar(1) === '=' ? (first === '>' ? '>=' : '<=') : first;
    this.s.pos += op.length;
    this.s.skipSpace();
    const after = quote(`${rangePrefix}${op}`);
    const ch = this.s.peekChar();
    let value: FilterValue;
    let end: number;
    if (ch === '"') {
      const phrase = this.s.readQuoted();
      value = { text: phrase.text, quoted: true };
      end = phrase.end;
    } else {
      if (ch === '<' || ch === '>' || ch === '=') throw this.expectedHere('a value', after);
      const word = this.s.readWord(false);
      if (word.raw === '') throw this.expectedHere('a value', after);
      this.rejectGlued(word);
      if (word.wildcard) {
        throw invalidError(
          `Expected a plain value after ${after} but found the wildcard pattern ${quote(word.raw)}; ranges do not take wildcards`,
          word.start,
        );
      }
      value = wordValue(word);
      end = word.end;
    }
    return { kind: 'range', field, op, value, span: { start, end } };
  }

  /** A word directly followed by `(` or `"` is almost always a typo; say how to write it. */
  private rejectGlued(word: FilterWord): void {
    const next = this.s.peekChar();
    if (next === '(' || next === '"') {
      throw syntaxError(
        `Expected whitespace or an operator after ${quote(word.raw)} but found ${quote(next)}; ` +
          `to include ${quote(next)} in a value, escape it as "\\${next}" or quote the whole value`,
        this.s.pos,
      );
    }
  }

  private describeHere(): string {
    const ch = this.s.peekChar();
    if (ch === undefined) return 'end of query';
    if (ch === '(' || ch === ')' || ch === '|' || ch === '"') return quote(ch);
    const word = this.s.peekWord(true);
    return quote(word.raw === '' ? ch : word.raw);
  }

  private expectedHere(what: string, after: string | undefined): Error {
    return syntaxError(`Expected ${what}${afterText(after)} but found ${this.describeHere()}`, this.s.pos);
  }
}

function afterText(after: string | undefined): string {
  return after === undefined ? '' : ` after ${after}`;
}

function span(token: { readonly start: number; readonly end: number }): Span {
  return { start: token.start, end: token.end };
}

/**
 * The FilterValue of an unquoted word. `text` has escapes removed, as the IR
 * says; so that an escaped `\*` stays literal, a word with escapes but no
 * wildcard is marked `quoted` (no wildcard expansion). An unquoted value in
 * the IR therefore never contains a backslash. A wildcard pattern that also
 * has a literal star or backslash cannot be expressed in the IR, so it is
 * rejected rather than silently misread.
 */
function wordValue(word: FilterWord): FilterValue {
  if (word.wildcard && word.escapedStarOrBackslash) {
    throw invalidError(
      `Expected either "*" wildcards or escaped "\\*"/"\\\\" in ${quote(word.raw)} but found both; ` +
        'a wildcard pattern cannot also contain a literal star or backslash',
      word.start,
    );
  }
  return { text: word.text, quoted: word.escaped && !word.wildcard };
}

/**
 * Builds an and/or of `items`: nested same-kind nodes are flattened, a
 * single item stands alone, and the match-all filter is absorbed
 * (`* AND x` is `x`, `* OR x` is everything).
 */
function combine(kind: 'and' | 'or', items: readonly Filter[]): Filter {
  const flat: Filter[] = [];
  for (const item of items) {
    if (item.kind === 'all') {
      if (kind === 'or') return item;
      continue;
    }
    if (item.kind === kind) flat.push(...item.items);
    else flat.push(item);
  }
  if (flat.length === 0) return { kind: 'all' };
  const [only] = flat;
  if (flat.length === 1 && only !== undefined) return only;
  return { kind, items: flat };
}
