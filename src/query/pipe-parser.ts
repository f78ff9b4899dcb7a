/**
 * The pipe stages after the filter: `| stats ... | where ... | eval ... |
 * sort ... | limit N | fields ...`. Stage keywords are case-insensitive and
 * have Kusto-style synonyms (`extend`, `order by`, `sort by`, `head`, `take`).
 * Column references are checked against what the earlier stages produce
 * (see ColumnScope).
 */
import type { Expr, SortKey, Stage } from './ir.ts';
import { ColumnScope } from './column-scope.ts';
import { expectedError, parseExpr } from './expr-parser.ts';
import { describeToken, invalidError, isKeyword, isPunct, quote, syntaxError } from './lexer.ts';
import { PipeLexer } from './lexer.ts';
import { QueryBudget } from './limits.ts';
import { expectName, parseStats } from './stats-parser.ts';

/** The largest `limit` accepted: beyond this a query is an export, not a search. */
export const MAX_LIMIT = 1_000_000;

const STAGE_NAMES = 'stats, summarize, where, eval, extend, sort, order by, top, limit, head, take, fields';

/**
 * Parses the stages of `text` from `start`, which must be at the first `|`
 * or at the end of the text.
 */
export function parseStages(text: string, start: number, budget: QueryBudget = new QueryBudget()): Stage[] {
  const lx = new PipeLexer(text, start, budget);
  const scope = new ColumnScope();
  const stages: Stage[] = [];
  while (lx.accept('|')) {
    const name = lx.peek();
    budget.stage(name.start);
    stages.push(...[parseStage(lx, scope)].flat());
    const after = lx.peek();
    if (after.kind !== 'eof' && !isPunct(after, '|')) {
      throw syntaxError(
        `Expected "|" or end of query after the ${name.value.toLowerCase()} stage but found ${describeToken(after)}`,
        after.start,
      );
    }
  }
  const rest = lx.peek();
  if (rest.kind !== 'eof') throw expectedError(lx, '"|" or end of query');
  return stages;
}

function parseStage(lx: PipeLexer, scope: ColumnScope): Stage | Stage[] {
  const token = lx.peek();
  if (token.kind !== 'ident' || token.quoted) throw expectedError(lx, `a stage name (${STAGE_NAMES})`);
  lx.next();
  switch (token.value.toLowerCase()) {
    case 'stats':
      return parseStats(lx, scope);
    case 'summarize':
      return parseStats(lx, scope, true);
    case 'top':
      return parseTop(lx, scope);
    case 'where':
      return parseWhere(lx, scope);
    case 'eval':
    case 'extend':
      return parseEval(lx, scope);
    case 'sort':
      if (isKeyword(lx.peek(), 'by')) lx.next();
      return parseSort(lx, scope);
    case 'order':
      if (!isKeyword(lx.peek(), 'by')) throw expectedError(lx, '"by"');
      lx.next();
      return parseSort(lx, scope);
    case 'limit':
    case 'head':
    case 'take':
      return parseLimit(lx);
    case 'fields':
      return parseFields(lx, scope);
    default:
      throw syntaxError(`Unknown stage ${quote(token.value)}; expected one of ${STAGE_NAMES}`, token.start);
  }
}

function parseWhere(lx: PipeLexer, scope: ColumnScope): Stage {
  const expr = parseExpr(lx);
  scope.checkExpr(expr);
  return { kind: 'where', expr };
}

function parseEval(lx: PipeLexer, scope: ColumnScope): Stage {
  const assignments: { name: string; expr: Expr }[] = [];
  do {
    const name = expectName(lx, 'a column name to assign, as in eval name = expression');
    // After stats each assignment nests the SQL one level, as a stage does.
    if (!scope.isEvents) lx.budget.stage(name.start);
    if (!isPunct(lx.peek(), '=')) throw expectedError(lx, '"="');
    lx.next();
    const expr = parseExpr(lx);
    scope.checkExpr(expr);
    // Later assignments of the same stage may use this one (as in Kusto's extend).
    scope.add(name.value);
    assignments.push({ name: name.value, expr });
  } while (lx.accept(','));
  return { kind: 'eval', assignments };
}

function parseSort(lx: PipeLexer, scope: ColumnScope): Stage {
  const keys: SortKey[] = [];
  do {
    const expr = parseExpr(lx);
    scope.checkExpr(expr);
    let desc = false;
    if (isKeyword(lx.peek(), 'desc')) {
      desc = true;
      lx.next();
    } else if (isKeyword(lx.peek(), 'asc')) {
      lx.next();
    }
    keys.push({ expr, desc });
  } while (lx.accept(','));
  return { kind: 'sort', keys };
}

/** Kusto's `top N by expr [desc|asc]`: a sort (descending unless `asc`) and a limit. */
function parseTop(lx: PipeLexer, scope: ColumnScope): Stage[] {
  const limit = parseLimit(lx);
  if (!isKeyword(lx.peek(), 'by'))
    throw expectedError(lx, '"by" and the column to rank by, as in top 10 by count_ desc');
  lx.next();
  const expr = parseExpr(lx);
  scope.checkExpr(expr);
  let desc = true;
  if (isKeyword(lx.peek(), 'asc')) {
    desc = false;
    lx.next();
  } else if (isKeyword(lx.peek(), 'desc')) lx.next();
  return [{ kind: 'sort', keys: [{ expr, desc }] }, limit];
}

function parseLimit(lx: PipeLexer): Stage {
  const token = lx.peek();
  if (token.kind !== 'number') throw expectedError(lx, `a number of rows between 1 and ${MAX_LIMIT}`);
  lx.next();
  const n = Number(token.raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw invalidError(
      `Expected a whole number of rows between 1 and ${MAX_LIMIT} but found ${token.raw}`,
      token.start,
    );
  }
  return { kind: 'limit', n };
}

function parseFields(lx: PipeLexer, scope: ColumnScope): Stage {
  const fields: string[] = [];
  const seen = new Set<string>();
  do {
    const name = expectName(lx, 'a field name');
    lx.budget.term(name.start);
    scope.check(name.value, name.start);
    if (seen.has(name.value)) {
      throw invalidError(`Expected each field once but found ${quote(name.value)} twice`, name.start);
    }
    seen.add(name.value);
    fields.push(name.value);
  } while (lx.accept(','));
  // The rows now have just these columns, whether or not a stats came before.
  scope.set(fields, 'fields');
  return { kind: 'fields', fields };
}
