/**
 * Which column names a stage may reference. Before any `stats` (or
 * `fields`) the rows are events and any field name goes: field names are
 * resolved later by the compiler, not here. After `stats` the rows have
 * exactly the aggregation and key columns it produced, plus whatever later
 * `eval`s add; referencing anything else is a mistake worth reporting with
 * the position of the name.
 */
import type { Expr, Filter } from './ir.ts';
import { exprColumns } from './expr-parser.ts';
import { invalidError, quote } from './lexer.ts';

export class ColumnScope {
  /** The known columns in order, or undefined while rows are still raw events. */
  private columns: string[] | undefined;
  /** The same as a set, for lookups in constant time. */
  private known = new Set<string>();
  /** The stage that fixed the column set, for error messages. */
  private origin = '';

  /** True while rows are raw events (any field name is accepted). */
  get isEvents(): boolean {
    return this.columns === undefined;
  }

  /** Replaces the column set: the output of `stats` or `fields`. */
  set(columns: readonly string[], origin: string): void {
    this.columns = [...columns];
    this.known = new Set(columns);
    this.origin = origin;
  }

  /** Adds a column computed by `eval` (a no-op on raw events, where any name goes). */
  add(name: string): void {
    if (this.columns !== undefined && !this.known.has(name)) {
      this.columns.push(name);
      this.known.add(name);
    }
  }

  /** Throws query.invalid at `position` unless `name` is a column here. */
  check(name: string, position: number): void {
    if (this.columns === undefined || this.known.has(name)) return;
    throw invalidError(
      `Unknown column ${quote(name)}: after ${this.origin} the only columns are ${this.columns.join(', ')}`,
      position,
    );
  }

  /** Checks every column referenced by `expr`. */
  checkExpr(expr: Expr): void {
    for (const column of exprColumns(expr)) this.check(column.name, column.span?.start ?? 0);
  }

  /** Checks every field of a countif filter (a stats over the output of another stats). */
  checkFilter(filter: Filter): void {
    if (this.columns === undefined) return;
    switch (filter.kind) {
      case 'and':
      case 'or':
        for (const item of filter.items) this.checkFilter(item);
        return;
      case 'not':
        this.checkFilter(filter.item);
        return;
      case 'match':
      case 'range':
      case 'exists':
        this.check(filter.field, filter.span?.start ?? 0);
        return;
      case 'text':
        throw invalidError(
          `Expected field:value terms after ${this.origin} but found free text; free-text search only applies to events`,
          filter.span?.start ?? 0,
        );
      case 'all':
        return;
    }
  }
}
