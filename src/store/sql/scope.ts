/**
 * Name resolution for the compiler: what a field or column name means in the
 * relation a stage reads from. Before `stats` names are event fields (typed
 * columns or attributes, plus names defined by `eval`); after `stats` they are
 * the output columns of the previous stage.
 */
import { QueryError } from '../../errors.ts';
import { MAX_ATTRIBUTE_REFERENCES } from '../../query/limits.ts';
import { resolveField, type FieldType } from '../../schema/fields.ts';
import type { ResultType } from '../store.ts';
import type { SqlDialect } from './sql-dialect.ts';
import type { ParamList } from './param-list.ts';

/** What a name compiles to. */
export interface ColumnRef {
  /** SQL of the value in its natural type (text for attributes). */
  readonly sql: string;
  /** SQL of the value as a double (attributes are cast). */
  readonly numberSql: string;
  /** SQL that is true when the value is present. */
  readonly existsSql: string;
  /** Field type for typed columns; `attribute` when the type is unknown. */
  readonly type: FieldType | 'attribute';
  /** The field name this ref was resolved for (canonical name for typed fields). */
  readonly name: string;
}

export interface Scope {
  /** Resolves a name; throws QueryError when it does not exist here. */
  resolve(name: string, position: number): ColumnRef;
  /** Whether the scope is raw events (free text search and field filters allowed). */
  readonly isEvents: boolean;
}

export function resultTypeToFieldType(type: ResultType): FieldType | 'attribute' {
  switch (type) {
    case 'timestamp':
      return 'timestamp';
    case 'double':
      return 'double';
    case 'integer':
      return 'integer';
    case 'string[]':
      return 'keyword[]';
    case 'string':
      return 'keyword';
    default:
      return 'attribute';
  }
}

/** Names of event fields: typed columns, attributes, and `eval` definitions. */
export class EventScope implements Scope {
  readonly isEvents = true;
  readonly #dialect: SqlDialect;
  readonly #params: ParamList;
  /** `eval` names defined so far, substituted inline where used. */
  readonly #defined = new Map<string, ColumnRef>();
  /** Attribute reads compiled so far (each one is a JSON extraction per row). */
  #attributeReads = 0;

  constructor(dialect: SqlDialect, params: ParamList) {
    this.#dialect = dialect;
    this.#params = params;
  }

  define(name: string, ref: ColumnRef): void {
    this.#defined.set(name, ref);
  }

  definedNames(): string[] {
    return [...this.#defined.keys()];
  }

  resolve(name: string): ColumnRef {
    const defined = this.#defined.get(name);
    if (defined) return defined;
    const field = resolveField(name);
    const d = this.#dialect;
    if (field.kind === 'column') {
      const sql = d.quoteIdent(field.def.column);
      const existsSql = field.def.type === 'keyword[]' ? d.arrayNotEmpty(sql) : `${sql} IS NOT NULL`;
      const numberSql = field.def.type === 'double' || field.def.type === 'integer' ? sql : d.toDouble(sql);
      return { sql, numberSql, existsSql, type: field.def.type, name: field.def.name };
    }
    if (++this.#attributeReads > MAX_ATTRIBUTE_REFERENCES) {
      throw new QueryError(
        'query.too_complex',
        `The query reads fields without a typed column (attributes) more than ${MAX_ATTRIBUTE_REFERENCES} times; ` +
          `the limit is ${MAX_ATTRIBUTE_REFERENCES} (several values of one field, a:(x or y or ...), count once)`,
        0,
      );
    }
    const path = this.#params.add(d.attributePath(field.path), 'string');
    return {
      sql: d.attrString(path),
      numberSql: d.attrDouble(path),
      existsSql: d.attrExists(path),
      type: 'attribute',
      name,
    };
  }
}

/** Output columns of a previous stage (after `stats`). */
export class TableScope implements Scope {
  readonly isEvents = false;
  readonly #dialect: SqlDialect;
  readonly #columns: Map<string, ResultType>;

  constructor(dialect: SqlDialect, columns: readonly { name: string; type: ResultType }[]) {
    this.#dialect = dialect;
    this.#columns = new Map(columns.map((c) => [c.name, c.type]));
  }

  resolve(name: string, position: number): ColumnRef {
    const type = this.#columns.get(name);
    if (type === undefined) {
      throw new QueryError(
        'query.invalid',
        `Unknown column "${name}"; the previous stage produces ${[...this.#columns.keys()].map((c) => `"${c}"`).join(', ')}`,
        position,
      );
    }
    const sql = this.#dialect.quoteIdent(name);
    const fieldType = resultTypeToFieldType(type);
    return {
      sql,
      numberSql: fieldType === 'double' || fieldType === 'integer' ? sql : this.#dialect.toDouble(sql),
      existsSql: `${sql} IS NOT NULL`,
      type: fieldType,
      name,
    };
  }
}
