/**
 * Row expressions (`where`, `eval`, `sort`) → SQL.
 */
import { AppError, QueryError } from '../../errors.ts';
import type { BinaryOp, Expr } from '../../query/ir.ts';
import { MAX_EXPRESSION_SQL } from '../../query/limits.ts';
import type { ResultType } from '../store.ts';
import type { CompileContext } from './filter-compiler.ts';
import type { ColumnRef, Scope } from './scope.ts';

/** A compiled expression: its SQL, its SQL as a number, and its result type. */
export interface CompiledExpr {
  readonly sql: string;
  readonly numberSql: string;
  readonly type: ResultType;
}

export function refToExpr(ref: ColumnRef): CompiledExpr {
  return { sql: ref.sql, numberSql: ref.numberSql, type: fieldTypeToResult(ref.type) };
}

export function fieldTypeToResult(type: ColumnRef['type']): ResultType {
  switch (type) {
    case 'timestamp':
      return 'timestamp';
    case 'double':
      return 'double';
    case 'integer':
      return 'integer';
    case 'keyword[]':
      return 'string[]';
    default:
      return 'string';
  }
}

function isNumeric(e: CompiledExpr): boolean {
  return e.type === 'double' || e.type === 'integer';
}

/**
 * A number as an SQL literal. Integers get a `.0` so that integer
 * arithmetic never truncates (100 / 3), except from 1e21 on, where
 * JavaScript writes an exponent (`1e+21`), which is already a valid
 * floating-point literal (`1e+21.0` is not).
 */
export function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new AppError(500, 'query.internal', `not a finite number: ${value}`);
  const text = String(value);
  return Number.isInteger(value) && !/e/i.test(text) ? `${text}.0` : text;
}

/** How a binary operator compiles: its kind and SQL operator. Exhaustive over BinaryOp. */
function binaryOperator(op: BinaryOp): { kind: 'arithmetic' | 'logical' | 'comparison'; sql: string } {
  switch (op) {
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return { kind: 'arithmetic', sql: op };
    case 'and':
      return { kind: 'logical', sql: 'AND' };
    case 'or':
      return { kind: 'logical', sql: 'OR' };
    case '=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return { kind: 'comparison', sql: op };
    case '!=':
      return { kind: 'comparison', sql: '<>' };
    default:
      // The parser only produces the operators above; an IR built elsewhere
      // with another one is a bug to report, never a silent "=".
      throw new AppError(500, 'query.internal', `unknown operator ${JSON.stringify(op as unknown)} in the query IR`);
  }
}

/**
 * Refuses an expression whose SQL grew past MAX_EXPRESSION_SQL: names
 * defined by `eval` are substituted where used, so `eval b = a + a, c = b + b, ...`
 * doubles the SQL at each step.
 */
function bounded(e: CompiledExpr): CompiledExpr {
  if (e.sql.length <= MAX_EXPRESSION_SQL && e.numberSql.length <= MAX_EXPRESSION_SQL) return e;
  throw new QueryError(
    'query.too_complex',
    `The expression is too large once its eval names are substituted (over ${MAX_EXPRESSION_SQL} characters of SQL); ` +
      'compute the repeated part once, or after stats',
    0,
  );
}

export function compileExpr(expr: Expr, scope: Scope, ctx: CompileContext): CompiledExpr {
  return bounded(compileNode(expr, scope, ctx));
}

function compileNode(expr: Expr, scope: Scope, ctx: CompileContext): CompiledExpr {
  const { dialect: d, params } = ctx;
  switch (expr.kind) {
    case 'number': {
      const sql = numberLiteral(expr.value);
      return { sql, numberSql: sql, type: 'double' };
    }
    case 'string': {
      const sql = params.add(expr.value, 'string');
      return { sql, numberSql: d.toDouble(sql), type: 'string' };
    }
    case 'bool':
      // Comparisons, not `true`/`false`: ClickHouse before 21 has no boolean literals.
      return { sql: expr.value ? '(1 = 1)' : '(1 = 0)', numberSql: expr.value ? '1' : '0', type: 'boolean' };
    case 'null':
      return { sql: 'NULL', numberSql: 'NULL', type: 'string' };
    case 'column':
      return refToExpr(scope.resolve(expr.name, expr.span?.start ?? 0));
    case 'unary': {
      const arg = compileExpr(expr.arg, scope, ctx);
      if (expr.op === '-') {
        // The space keeps `- -x` from reading as an SQL comment `--`.
        const sql = `(- ${arg.numberSql})`;
        return { sql, numberSql: sql, type: 'double' };
      }
      return { sql: `(NOT ${arg.sql})`, numberSql: `(NOT ${arg.sql})`, type: 'boolean' };
    }
    case 'binary': {
      const operator = binaryOperator(expr.op);
      const left = compileExpr(expr.left, scope, ctx);
      const right = compileExpr(expr.right, scope, ctx);
      if (operator.kind === 'arithmetic') {
        const sql = `(${left.numberSql} ${operator.sql} ${right.numberSql})`;
        return { sql, numberSql: sql, type: 'double' };
      }
      if (operator.kind === 'logical') {
        const sql = `(${left.sql} ${operator.sql} ${right.sql})`;
        return { sql, numberSql: sql, type: 'boolean' };
      }
      const op = operator.sql;
      // Compare as numbers when either side is a number, so attributes ("15") compare with 15.
      const numeric = isNumeric(left) || isNumeric(right);
      const l = numeric ? left.numberSql : left.sql;
      const r = numeric ? right.numberSql : right.sql;
      const sql = `(${l} ${op} ${r})`;
      return { sql, numberSql: sql, type: 'boolean' };
    }
    case 'call':
      return compileCall(expr, scope, ctx);
  }
}

function compileCall(expr: Extract<Expr, { kind: 'call' }>, scope: Scope, ctx: CompileContext): CompiledExpr {
  const { dialect: d } = ctx;
  const args = expr.args.map((a) => compileExpr(a, scope, ctx));
  const fn = expr.fn.toLowerCase();
  if (fn === 'if') {
    const [cond, a, b] = args;
    if (!cond || !a || !b)
      throw new QueryError('query.invalid', 'if() takes three arguments: if(condition, then, else)', 0);
    const sql = d.ifThenElse(cond.sql, a.sql, b.sql);
    return { sql, numberSql: d.toDouble(sql), type: a.type };
  }
  if (fn === 'lower' || fn === 'upper') {
    const sql = d.scalarFunction(
      fn,
      args.map((a) => a.sql),
    );
    return { sql, numberSql: d.toDouble(sql), type: 'string' };
  }
  if (fn === 'coalesce') {
    const allNumeric = args.every(isNumeric);
    const sql = d.scalarFunction(
      fn,
      args.map((a) => (allNumeric ? a.numberSql : a.sql)),
    );
    return { sql, numberSql: allNumeric ? sql : d.toDouble(sql), type: allNumeric ? 'double' : 'string' };
  }
  const sql = d.scalarFunction(
    fn,
    args.map((a) => a.numberSql),
  );
  return { sql, numberSql: sql, type: 'double' };
}
