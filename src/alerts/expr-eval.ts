/**
 * Evaluates a query-language expression (the rule's condition) over one
 * result row in JavaScript, with SQL's null rules: anything with a null (or
 * a division by zero) is null, and a null condition is not true. So
 * `ok / total < 0.95` stays quiet when there were no payments at all.
 */
import type { Expr } from '../query/index.ts';

/** Named values of one alert instance: the stats columns and derived values. */
export type Values = Readonly<Record<string, unknown>>;

/** Evaluates `expr`; unknown names are an error (the rule refers to a column its query does not compute). */
export function evaluateExpr(expr: Expr, values: Values): unknown {
  switch (expr.kind) {
    case 'number':
    case 'string':
    case 'bool':
      return expr.value;
    case 'null':
      return null;
    case 'column': {
      if (!Object.hasOwn(values, expr.name)) {
        const known = Object.keys(values).join(', ');
        throw new Error(`the condition uses "${expr.name}", which the query does not compute (it has: ${known})`);
      }
      return values[expr.name] ?? null;
    }
    case 'unary': {
      const arg = evaluateExpr(expr.arg, values);
      if (arg === null) return null;
      return expr.op === '-' ? -Number(arg) : !arg;
    }
    case 'binary':
      return binary(expr.op, evaluateExpr(expr.left, values), () => evaluateExpr(expr.right, values));
    case 'call':
      return call(
        expr.fn,
        expr.args.map((a) => evaluateExpr(a, values)),
      );
  }
}

function binary(op: Extract<Expr, { kind: 'binary' }>['op'], left: unknown, rightOf: () => unknown): unknown {
  if (op === 'and') {
    if (left === false) return false;
    const right = rightOf();
    if (right === false) return false;
    return left === null || right === null ? null : true;
  }
  if (op === 'or') {
    if (left === true) return true;
    const right = rightOf();
    if (right === true) return true;
    return left === null || right === null ? null : false;
  }
  const right = rightOf();
  if (left === null || right === null) return null;
  switch (op) {
    case '+':
      return Number(left) + Number(right);
    case '-':
      return Number(left) - Number(right);
    case '*':
      return Number(left) * Number(right);
    case '/':
      return Number(right) === 0 ? null : Number(left) / Number(right);
    case '%':
      return Number(right) === 0 ? null : Number(left) % Number(right);
    case '=':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return (left as number) < (right as number);
    case '<=':
      return (left as number) <= (right as number);
    case '>':
      return (left as number) > (right as number);
    case '>=':
      return (left as number) >= (right as number);
  }
}

function call(fn: string, args: readonly unknown[]): unknown {
  const [a, b, c] = args;
  switch (fn) {
    case 'coalesce':
      return args.find((x) => x !== null && x !== undefined) ?? null;
    case 'if':
      return a === true ? b : c;
  }
  if (a === null || a === undefined) return null;
  switch (fn) {
    case 'abs':
      return Math.abs(Number(a));
    case 'round': {
      const scale = 10 ** Number(b ?? 0);
      return Math.round(Number(a) * scale) / scale;
    }
    case 'floor':
      return Math.floor(Number(a));
    case 'ceil':
      return Math.ceil(Number(a));
    case 'lower':
      return String(a).toLowerCase();
    case 'upper':
      return String(a).toUpperCase();
    default:
      throw new Error(`unknown function ${fn}()`);
  }
}
