/**
 * Row expressions of `where`, `eval` and `sort`. Precedence, loosest first:
 *
 *   or  <  and  <  not  <  comparison  <  + -  <  * / %  <  unary -  <  primary
 *
 * `not` binds looser than comparisons, so `not a = 1` is `not (a = 1)`.
 * Comparisons do not chain: `a < b < c` is an error. Keywords (and, or, not,
 * true, false, null) are case-insensitive; backtick-quoted names are never
 * keywords.
 */
import type { BinaryOp, Expr } from './ir.ts';
import { describeToken, invalidError, isKeyword, isPunct, quote, syntaxError } from './lexer.ts';
import type { PipeLexer, PipeToken } from './lexer.ts';

/** Scalar functions and how many arguments each takes. */
const FUNCTIONS: Readonly<Record<string, { readonly min: number; readonly max: number }>> = {
  abs: { min: 1, max: 1 },
  round: { min: 1, max: 2 },
  floor: { min: 1, max: 1 },
  ceil: { min: 1, max: 1 },
  coalesce: { min: 1, max: Number.POSITIVE_INFINITY },
  lower: { min: 1, max: 1 },
  upper: { min: 1, max: 1 },
  if: { min: 3, max: 3 },
};

const COMPARISONS: Readonly<Record<string, BinaryOp>> = {
  '=': '=',
  '==': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

/**
 * Parses one expression from the lexer, stopping before the first token
 * that cannot continue it (`,`, `|`, `asc`, end of query, ...).
 */
export function parseExpr(lx: PipeLexer): Expr {
  return parseOr(lx);
}

/** Describes what was just read, for "Expected ... after X". */
export function afterPrevious(lx: PipeLexer): string {
  return lx.previous === undefined ? '' : ` after ${quote(lx.previous.raw)}`;
}

/** The error for "expected `what` here" at the next token. */
export function expectedError(lx: PipeLexer, what: string): Error {
  const found = lx.peek();
  return syntaxError(`Expected ${what}${afterPrevious(lx)} but found ${describeToken(found)}`, found.start);
}

function parseOr(lx: PipeLexer): Expr {
  let left = parseAnd(lx);
  while (isKeyword(lx.peek(), 'or')) {
    lx.next();
    left = { kind: 'binary', op: 'or', left, right: parseAnd(lx) };
  }
  return left;
}

function parseAnd(lx: PipeLexer): Expr {
  let left = parseNot(lx);
  while (isKeyword(lx.peek(), 'and')) {
    lx.next();
    left = { kind: 'binary', op: 'and', left, right: parseNot(lx) };
  }
  return left;
}

function parseNot(lx: PipeLexer): Expr {
  const token = lx.peek();
  if (isKeyword(token, 'not')) {
    lx.next();
    lx.budget.enter(token.start);
    const arg = parseNot(lx);
    lx.budget.leave();
    return { kind: 'unary', op: 'not', arg };
  }
  return parseComparison(lx);
}

function parseComparison(lx: PipeLexer): Expr {
  const left = parseAdditive(lx);
  const token = lx.peek();
  const op = token.kind === 'punct' ? COMPARISONS[token.raw] : undefined;
  if (op === undefined) return left;
  lx.next();
  const right = parseAdditive(lx);
  const chained = lx.peek();
  if (chained.kind === 'punct' && COMPARISONS[chained.raw] !== undefined) {
    throw syntaxError(
      `Expected "and" or "or" between comparisons but found ${quote(chained.raw)}; write a < b and b < c`,
      chained.start,
    );
  }
  return { kind: 'binary', op, left, right };
}

function parseAdditive(lx: PipeLexer): Expr {
  let left = parseMultiplicative(lx);
  for (;;) {
    const token = lx.peek();
    if (!isPunct(token, '+') && !isPunct(token, '-')) return left;
    lx.next();
    left = { kind: 'binary', op: token.raw === '+' ? '+' : '-', left, right: parseMultiplicative(lx) };
  }
}

function parseMultiplicative(lx: PipeLexer): Expr {
  let left = parseUnary(lx);
  for (;;) {
    const token = lx.peek();
    const op = token.kind === 'punct' ? token.raw : '';
    if (op !== '*' && op !== '/' && op !== '%') return left;
    lx.next();
    left = { kind: 'binary', op, left, right: parseUnary(lx) };
  }
}

function parseUnary(lx: PipeLexer): Expr {
  const minus = lx.peek();
  if (!isPunct(minus, '-')) return parsePrimary(lx);
  lx.next();
  lx.budget.enter(minus.start);
  const arg = parseUnary(lx);
  lx.budget.leave();
  // Fold `-5` into a literal: compilers and explain read it more simply.
  if (arg.kind === 'number') return { kind: 'number', value: -arg.value };
  return { kind: 'unary', op: '-', arg };
}

function parsePrimary(lx: PipeLexer): Expr {
  const token = lx.peek();
  if (token.kind !== 'punct' && token.kind !== 'eof') lx.budget.term(token.start);
  switch (token.kind) {
    case 'number': {
      lx.next();
      const value = Number(token.raw);
      if (!Number.isFinite(value)) {
        throw invalidError(
          `Expected a number up to about 1.8e308 but found ${token.raw.length} digits at position ${token.start}`,
          token.start,
        );
      }
      return { kind: 'number', value };
    }
    case 'string':
      lx.next();
      return { kind: 'string', value: token.value };
    case 'punct':
      if (token.raw === '(') return parseParenthesized(lx);
      break;
    case 'ident':
      return parseName(lx, token);
    case 'duration':
      throw syntaxError(
        `Expected an expression${afterPrevious(lx)} but found ${quote(token.raw)}; durations are only allowed in bin()`,
        token.start,
      );
    case 'eof':
      break;
  }
  throw expectedError(lx, 'an expression');
}

function parseParenthesized(lx: PipeLexer): Expr {
  const open = lx.next();
  lx.budget.enter(open.start);
  const inner = parseOr(lx);
  lx.budget.leave();
  const close = lx.peek();
  if (!isPunct(close, ')')) {
    throw syntaxError(
      `Expected ")" to close "(" at position ${open.start} but found ${describeToken(close)}`,
      unclosedPosition(open, close),
    );
  }
  lx.next();
  return inner;
}

/** A literal keyword, a function call or a column name. */
function parseName(lx: PipeLexer, token: PipeToken): Expr {
  if (!token.quoted) {
    const lower = token.value.toLowerCase();
    if (lower === 'true' || lower === 'false') {
      lx.next();
      return { kind: 'bool', value: lower === 'true' };
    }
    if (lower === 'null') {
      lx.next();
      return { kind: 'null' };
    }
    if (lower === 'and' || lower === 'or') throw expectedError(lx, 'an expression');
  }
  lx.next();
  if (!token.quoted && isPunct(lx.peek(), '(')) return parseCall(lx, token);
  return { kind: 'column', name: token.value, span: { start: token.start, end: token.end } };
}

function parseCall(lx: PipeLexer, name: PipeToken): Expr {
  const fn = name.value.toLowerCase();
  // Own keys only: `constructor` or `__proto__` is no function of the query language.
  const arity = Object.hasOwn(FUNCTIONS, fn) ? FUNCTIONS[fn] : undefined;
  if (arity === undefined) {
    throw invalidError(
      `Unknown function ${quote(name.value)}; expected one of ${Object.keys(FUNCTIONS).join(', ')}`,
      name.start,
    );
  }
  const open = lx.next();
  lx.budget.enter(name.start);
  const args: Expr[] = [];
  if (!isPunct(lx.peek(), ')')) {
    for (;;) {
      args.push(parseOr(lx));
      if (!isPunct(lx.peek(), ',')) break;
      lx.next();
    }
  }
  lx.budget.leave();
  const close = lx.peek();
  if (!isPunct(close, ')')) {
    throw syntaxError(
      `Expected "," or ")" to close "${name.value}(" at position ${open.start} but found ${describeToken(close)}`,
      unclosedPosition(open, close),
    );
  }
  lx.next();
  if (args.length < arity.min || args.length > arity.max) {
    throw invalidError(
      `Expected ${describeArity(arity.min, arity.max)} for ${fn}() but found ${args.length}`,
      name.start,
    );
  }
  return { kind: 'call', fn, args };
}

/**
 * Where to report a missing `)`: at the `(` when the stage simply ended
 * (the paren is what is wrong), else at the token found instead.
 */
export function unclosedPosition(open: PipeToken, found: PipeToken): number {
  return found.kind === 'eof' || isPunct(found, '|') ? open.start : found.start;
}

function describeArity(min: number, max: number): string {
  const plural = (n: number): string => (n === 1 ? 'argument' : 'arguments');
  if (min === max) return `${min} ${plural(min)}`;
  if (max === Number.POSITIVE_INFINITY) return `at least ${min} ${plural(min)}`;
  return `${min} to ${max} arguments`;
}

/** Every column reference in `expr`, in reading order (one pass, no copies per level). */
export function exprColumns(
  expr: Expr,
  out: Extract<Expr, { kind: 'column' }>[] = [],
): Extract<Expr, { kind: 'column' }>[] {
  switch (expr.kind) {
    case 'column':
      out.push(expr);
      break;
    case 'unary':
      exprColumns(expr.arg, out);
      break;
    case 'binary':
      exprColumns(expr.left, out);
      exprColumns(expr.right, out);
      break;
    case 'call':
      for (const arg of expr.args) exprColumns(arg, out);
      break;
    default:
      break;
  }
  return out;
}
