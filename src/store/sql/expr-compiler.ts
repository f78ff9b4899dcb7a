/**
 * Row expressions (`where`, `eval`, `sort`) → SQL.
 */
import { QueryError } from '../../errors.ts';
import type { Expr } from '../../query/ir.ts';
import type { ResultType } from '../store.ts';
import type { CompileContext } from './filter-compiler.ts';
import type { ColumnRef, Scope } from './scope.ts';

/** A compiled expression: its SQL, its SQL as a number, and its result type. */
export interface CompiledExpr {
  readonly sql: string;
  readonly numberSql: string;
  readonly type: ResultType;
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);
const COMPARISON: Record<string, string> = { '=': '=', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

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

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  // Written as a double so that integer arithmetic never truncates (100 / 3).
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

export function compileExpr(expr: Expr, scope: Scope, ctx: CompileContext): CompiledExpr {
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
      return { sql: expr.value ? 'true' : 'false', numberSql: expr.value ? '1' : '0', type: 'boolean' };
    case 'null':
      return { sql: 'NULL', numberSql: 'NULL', type: 'string' };
    case 'column':
      return refToExpr(scope.resolve(expr.name, expr.span?.start ?? 0));
    case 'unary': {
      const arg = compileExpr(expr.arg, scope, ctx);
      if (expr.op === '-') {
        const sql = `(-${arg.numberSql})`;
        return { sql, numberSql: sql, type: 'double' };
      }
      return { sql: `(NOT ${arg.sql})`, numberSql: `(NOT ${arg.sql})`, type: 'boolean' };
    }
    case 'binary': {
      const left = compileExpr(expr.left, scope, ctx);
      const right = compileExpr(expr.right, scope, ctx);
      if (ARITHMETIC.has(expr.op)) {
        const sql = `(${left.numberSql} ${expr.op} ${right.numberSql})`;
        return { sql, numberSql: sql, type: 'double' };
      }
      if (expr.op === 'and' || expr.op === 'or') {
        const sql = `(${left.sql} ${expr.op.toUpperCase()} ${right.sql})`;
        return { sql, numberSql: sql, type: 'boolean' };
      }
      const op = COMPARISON[expr.op] ?? '=';
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
