import type { ParamType, SqlDialect, SqlParam } from './sql-dialect.ts';

/** Collects query parameters and hands out the dialect's placeholders for them. */
export class ParamList {
  readonly #dialect: SqlDialect;
  readonly params: SqlParam[] = [];

  constructor(dialect: SqlDialect) {
    this.#dialect = dialect;
  }

  /** Adds a value and returns its placeholder text. */
  add(value: string | number, type: ParamType): string {
    this.params.push({ value, type });
    return this.#dialect.placeholder(this.params.length, type);
  }
}
