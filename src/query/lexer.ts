/**
 * Lexing for the query language. The filter (KQL-style) and the pipe stages
 * have different lexical rules: a filter value such as
 * `2025-06-28T14:30:00Z` or `/api/cart/*` is one token, while in a stage
 * `a-b` is three. So there are two scanners, both driven lazily by the
 * parser over the same query text. Laziness is what lets `countif(<filter>)`
 * switch from stage tokens to filter scanning and back, and it keeps every
 * position an offset into the original query text.
 */
import { QueryError } from '../errors.ts';
import { QueryBudget } from './limits.ts';

/** A `query.syntax` error at `position`. */
export function syntaxError(message: string, position: number): QueryError {
  return new QueryError('query.syntax', message, position);
}

/** A `query.invalid` error (parses, but does not make sense) at `position`. */
export function invalidError(message: string, position: number): QueryError {
  return new QueryError('query.invalid', message, position);
}

/**
 * Quotes text for an error message: `"text"`. Not JSON.stringify: users
 * should see their own text, not `\\` for each backslash they typed.
 */
export function quote(text: string): string {
  return `"${text}"`;
}

const WHITESPACE = /\s/;

function isWhitespace(ch: string): boolean {
  return WHITESPACE.test(ch);
}

/**
 * Reads a quoted string whose opening `delimiter` is at `start`: a backslash
 * takes the next character literally. The content is built from slices
 * between escapes (one pass over the text, one join).
 */
function readDelimited(text: string, start: number, delimiter: string): { value: string; end: number } {
  const parts: string[] = [];
  let from = start + 1;
  let i = from;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (ch === delimiter) {
      parts.push(text.slice(from, i));
      return { value: parts.length === 1 ? (parts[0] as string) : parts.join(''), end: i + 1 };
    }
    if (ch === '\\' && i + 1 < text.length) {
      parts.push(text.slice(from, i), text.charAt(i + 1));
      i += 2;
      from = i;
    } else {
      i++;
    }
  }
  throw syntaxError(`Unclosed quote starting at position ${start}`, start);
}

// ---------------------------------------------------------------------------
// Filter scanning

/** An unquoted filter word (field name, value or free-text word). */
export interface FilterWord {
  /** The text with backslash escapes removed. */
  readonly text: string;
  /** The text exactly as written. */
  readonly raw: string;
  readonly start: number;
  readonly end: number;
  /** An unescaped `*` appears: the word is a wildcard pattern. */
  readonly wildcard: boolean;
  /**
   * A `\*` or `\\` appears: the word contains a literal star or backslash,
   * which a wildcard pattern in the IR could not tell apart from its own syntax.
   */
  readonly escapedStarOrBackslash: boolean;
  /** Some backslash escape appears (so the word cannot be a keyword or a field name). */
  readonly escaped: boolean;
}

/** A double-quoted phrase. */
export interface QuotedText {
  /** The content with quotes and escapes removed. */
  readonly text: string;
  readonly start: number;
  /** Just after the closing quote. */
  readonly end: number;
}

/** Characters that end an unquoted filter word, besides whitespace. */
const WORD_STOPS = new Set(['(', ')', '|', '"']);

/**
 * A cursor over the filter part of the query. It does not tokenize ahead,
 * because whether `:` ends a word depends on where the parser is: it ends a
 * field name but not a value (`@timestamp:>=2025-06-28T14:30:00Z`).
 */
export class FilterScanner {
  readonly text: string;
  pos: number;

  constructor(text: string, pos: number) {
    this.text = text;
    this.pos = pos;
  }

  skipSpace(): void {
    while (this.pos < this.text.length && isWhitespace(this.text.charAt(this.pos))) this.pos++;
  }

  /** The character at the cursor, or undefined at the end of the text. */
  peekChar(offset = 0): string | undefined {
    const at = this.pos + offset;
    return at < this.text.length ? this.text.charAt(at) : undefined;
  }

  /** Reads a double-quoted phrase; the cursor must be on the opening quote. */
  readQuoted(): QuotedText {
    const start = this.pos;
    const { value, end } = readDelimited(this.text, start, '"');
    this.pos = end;
    return { text: value, start, end };
  }

  /**
   * Reads an unquoted word up to whitespace, `(`, `)`, `|`, `"` and, when
   * `stopAtColon`, `:`. A backslash makes the next character part of the
   * word whatever it is. The word may be empty.
   */
  readWord(stopAtColon: boolean): FilterWord {
    const start = this.pos;
    const text = this.text;
    // The unescaped text is built from slices between escapes (one join at
    // the end), so a long word costs one pass, not a copy per character.
    const parts: string[] = [];
    let from = start;
    let wildcard = false;
    let escapedStarOrBackslash = false;
    let escaped = false;
    let pos = start;
    while (pos < text.length) {
      const ch = text.charAt(pos);
      if (isWhitespace(ch) || WORD_STOPS.has(ch) || (stopAtColon && ch === ':')) break;
      if (ch === '\\') {
        const next = text.charAt(pos + 1);
        if (next === '') {
          throw syntaxError(`Expected a character after "\\" at position ${pos} but found end of query`, pos);
        }
        escaped = true;
        if (next === '*' || next === '\\') escapedStarOrBackslash = true;
        parts.push(text.slice(from, pos), next);
        pos += 2;
        from = pos;
        continue;
      }
      if (ch === '*') wildcard = true;
      pos++;
    }
    this.pos = pos;
    parts.push(text.slice(from, pos));
    return {
      text: parts.length === 1 ? (parts[0] as string) : parts.join(''),
      raw: text.slice(start, pos),
      start,
      end: pos,
      wildcard,
      escapedStarOrBackslash,
      escaped,
    };
  }

  /**
   * The keyword `and`, `or` or `not` (lower case) when one starts at the
   * cursor and ends there (followed by whitespace, `(`, `)`, `|`, `"` or the
   * end; not by `:`, so `not:x` is a field). Looks at four characters at
   * most: checking for a keyword before every term must not re-read a long
   * word each time.
   */
  keywordAt(): 'and' | 'or' | 'not' | undefined {
    const text = this.text;
    const at = this.pos;
    let n = 0;
    while (n < 4 && at + n < text.length && /[A-Za-z]/.test(text.charAt(at + n))) n++;
    if (n < 2 || n > 3) return undefined;
    const next = text.charAt(at + n);
    if (next !== '' && !isWhitespace(next) && !WORD_STOPS.has(next)) return undefined;
    const word = text.slice(at, at + n).toLowerCase();
    return word === 'and' || word === 'or' || word === 'not' ? word : undefined;
  }

  /** Reads a word without moving the cursor. */
  peekWord(stopAtColon: boolean): FilterWord {
    const saved = this.pos;
    try {
      return this.readWord(stopAtColon);
    } finally {
      this.pos = saved;
    }
  }
}

// ---------------------------------------------------------------------------
// Stage tokens

export type PipeTokenKind =
  /** A name: `stats`, `event.duration`, `@timestamp`, or a backtick-quoted name. */
  | 'ident'
  /** `42`, `100.0`. */
  | 'number'
  /** A number glued to letters: `5m`, `1h30m` (durations in `bin`). */
  | 'duration'
  /** A single- or double-quoted string. */
  | 'string'
  /** Operators and punctuation: `| ( ) , = == != <> < <= > >= + - * / %`. */
  | 'punct'
  | 'eof';

export interface PipeToken {
  readonly kind: PipeTokenKind;
  /** The text as written. */
  readonly raw: string;
  /** Names and strings: the content without quotes and escapes; otherwise `raw`. */
  readonly value: string;
  /** True for backtick-quoted names, which are never keywords. */
  readonly quoted: boolean;
  readonly start: number;
  readonly end: number;
}

// Longest first so that `<=` is not read as `<` then `=`.
const PUNCTUATION = ['|', '(', ')', ',', '+', '-', '*', '/', '%'];

/** Comparison operators; a run of `= ! < > ~` that is not one of them is an unknown operator. */
const COMPARISON_OPERATORS = new Set(['==', '!=', '<>', '<=', '>=', '=', '<', '>']);
const OPERATOR_CHAR = /[=!<>~]/;

const IDENT_START = /[A-Za-z_@]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const LETTER_OR_DIGIT = /[A-Za-z0-9]/;

/** Describes a token for "but found ..." in error messages. */
export function describeToken(token: PipeToken): string {
  return token.kind === 'eof' ? 'end of query' : quote(token.raw);
}

/** Tokens of the pipe stages, read one at a time from a position in the query text. */
export class PipeLexer {
  readonly text: string;
  private pos: number;
  private peeked: PipeToken | undefined;
  /** The last token returned by next(), for "after ..." in error messages. */
  previous: PipeToken | undefined;
  /** Nesting and term budget of the query being parsed (shared with embedded filters). */
  readonly budget: QueryBudget;

  constructor(text: string, pos: number, budget: QueryBudget = new QueryBudget()) {
    this.text = text;
    this.pos = pos;
    this.budget = budget;
  }

  /** Moves the lexer to `pos`, dropping any peeked token (used after an embedded filter). */
  reset(pos: number): void {
    this.pos = pos;
    this.peeked = undefined;
  }

  peek(): PipeToken {
    this.peeked ??= this.scan();
    return this.peeked;
  }

  next(): PipeToken {
    const token = this.peek();
    this.peeked = undefined;
    this.previous = token;
    return token;
  }

  /** Consumes the next token if it is the punctuation `text`; says whether it did. */
  accept(text: string): boolean {
    if (!isPunct(this.peek(), text)) return false;
    this.next();
    return true;
  }

  private scan(): PipeToken {
    while (this.pos < this.text.length && isWhitespace(this.text.charAt(this.pos))) this.pos++;
    const start = this.pos;
    if (start >= this.text.length) return this.token('eof', start, start, '');
    const ch = this.text.charAt(start);
    if (ch === '"' || ch === "'") return this.scanString(ch, 'string');
    if (ch === '`') return this.scanString(ch, 'ident');
    if (DIGIT.test(ch)) return this.scanNumber();
    if (IDENT_START.test(ch)) return this.scanIdent();
    if (OPERATOR_CHAR.test(ch)) return this.scanOperator();
    const punct = PUNCTUATION.find((p) => this.text.startsWith(p, start));
    if (punct !== undefined) {
      this.pos += punct.length;
      return this.token('punct', start, this.pos, punct);
    }
    throw syntaxError(
      `Unexpected character ${quote(ch)} at position ${start}; expected a name, number, quoted string or operator`,
      start,
    );
  }

  private token(kind: PipeTokenKind, start: number, end: number, value: string, quoted = false): PipeToken {
    return { kind, raw: this.text.slice(start, end), value, quoted, start, end };
  }

  private scanString(delimiter: string, kind: 'string' | 'ident'): PipeToken {
    const start = this.pos;
    const { value, end } = readDelimited(this.text, start, delimiter);
    this.pos = end;
    return this.token(kind, start, end, value, kind === 'ident');
  }

  /**
   * A comparison operator. The whole run of operator characters is read, so
   * that `=~`, `===` or `=>` is reported as unknown instead of being read as
   * `=` followed by something else.
   */
  private scanOperator(): PipeToken {
    const start = this.pos;
    this.skipWhile(OPERATOR_CHAR);
    const op = this.text.slice(start, this.pos);
    if (COMPARISON_OPERATORS.has(op)) return this.token('punct', start, this.pos, op);
    throw syntaxError(
      `Unknown operator ${quote(op)} at position ${start}; expected one of = == != <> < <= > >=`,
      start,
    );
  }

  private scanNumber(): PipeToken {
    const start = this.pos;
    this.skipWhile(DIGIT);
    if (this.text.charAt(this.pos) === '.' && DIGIT.test(this.text.charAt(this.pos + 1))) {
      this.pos++;
      this.skipWhile(DIGIT);
    }
    // Letters right after a number make a duration like `5m` or `1h30m`; the
    // parser decides whether one is allowed where it appears.
    if (/[A-Za-z]/.test(this.text.charAt(this.pos))) {
      this.skipWhile(LETTER_OR_DIGIT);
      return this.token('duration', start, this.pos, this.text.slice(start, this.pos));
    }
    return this.token('number', start, this.pos, this.text.slice(start, this.pos));
  }

  private scanIdent(): PipeToken {
    const start = this.pos;
    this.pos++;
    for (;;) {
      this.skipWhile(IDENT_PART);
      // A dot continues a dotted name only when a name part follows (`payment.3ds_status`).
      if (this.text.charAt(this.pos) === '.' && IDENT_PART.test(this.text.charAt(this.pos + 1))) {
        this.pos++;
        continue;
      }
      break;
    }
    return this.token('ident', start, this.pos, this.text.slice(start, this.pos));
  }

  private skipWhile(pattern: RegExp): void {
    while (this.pos < this.text.length && pattern.test(this.text.charAt(this.pos))) this.pos++;
  }
}

/** True when `token` is the unquoted keyword `word`, in any case. */
export function isKeyword(token: PipeToken, word: string): boolean {
  return token.kind === 'ident' && !token.quoted && token.value.toLowerCase() === word;
}

/** True when `token` is the punctuation `text`. */
export function isPunct(token: PipeToken, text: string): boolean {
  return token.kind === 'punct' && token.raw === text;
}
