/**
 * ClickHouse's SQL hooks for the shared query compiler, per server
 * capabilities (clickhouse-capabilities.ts).
 *
 * Representation (clickhouse-migrations.ts): `ts` is an Int64 of epoch
 * microseconds (18.16 has no DateTime64), so time buckets are integer
 * arithmetic and the store turns timestamp-typed result columns into
 * ISO-8601 text; `attributes` is the JSON text of the flat dotted names.
 *
 * Placeholders are `{pN:Type}`. With `queryParameters` the server binds
 * them; otherwise `bindLiterals` replaces them, in one pass, by escaped
 * literals before the SQL is sent.
 */
import type { ParamType, SqlDialect, SqlParam } from '../sql/sql-dialect.ts';
import type { ClickHouseCapabilities } from './clickhouse-capabilities.ts';

const PARAM_TYPES: Record<ParamType, string> = {
  string: 'String',
  double: 'Float64',
  integer: 'Int64',
  // Epoch microseconds, as the ts column holds them.
  timestamp: 'Int64',
};

/** A string as a ClickHouse string literal: backslash escapes, never a raw quote or control byte. */
export function stringLiteral(value: string): string {
  let out = "'";
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case "'":
        out += "\\'";
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\0':
        out += '\\0';
        break;
      default: {
        const code = ch.charCodeAt(0);
        out += code < 0x20 ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
      }
    }
  }
  return `${out}'`;
}

/** A parameter value as a literal of its type; throws for a non-finite or non-integer number. */
export function paramLiteral(param: SqlParam): string {
  const { value, type } = param;
  if (type === 'string') return stringLiteral(String(value));
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${String(value)}`);
  // Exponent form: always a Float64 literal (15 would be a UInt8, 2e19 past UInt64 an error).
  if (type === 'double') return n < 0 ? `(${n.toExponential()})` : n.toExponential();
  if (!Number.isSafeInteger(Math.trunc(n))) throw new Error(`not an integer: ${String(value)}`);
  const int = Math.trunc(n);
  return int < 0 ? `(${int})` : String(int);
}

const PLACEHOLDER = /\{p(\d+):[A-Za-z0-9]+\}/g;

/**
 * The SQL with every `{pN:Type}` replaced by the literal of parameter N.
 * One pass: a value that itself contains placeholder-like text stays text.
 * User values only ever reach the SQL as parameters, so a placeholder
 * cannot occur inside the compiler's own literals.
 */
export function bindLiterals(sql: string, params: readonly SqlParam[]): string {
  return sql.replace(PLACEHOLDER, (_all, n: string) => {
    const param = params[Number(n) - 1];
    if (!param) throw new Error(`no parameter ${n}`);
    return paramLiteral(param);
  });
}

/** The `query_params` object for a server that binds placeholders itself. */
export function queryParams(params: readonly SqlParam[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  params.forEach((p, i) => {
    out[`p${i + 1}`] = p.type === 'timestamp' || p.type === 'integer' ? Math.trunc(Number(p.value)) : p.value;
  });
  return out;
}

const SCALAR_FUNCTIONS: Record<string, (args: readonly string[]) => string> = {
  abs: (a) => `abs(${a[0]})`,
  // The number of digits must be a constant integer; toInt32 of a literal is folded to one.
  round: (a) => (a.length > 1 ? `round(${a[0]}, toInt32(${a[1]}))` : `round(${a[0]})`),
  floor: (a) => `floor(${a[0]})`,
  ceil: (a) => `ceil(${a[0]})`,
  coalesce: (a) => `coalesce(${a.join(', ')})`,
  lower: (a) => `lowerUTF8(${a[0]})`,
  upper: (a) => `upperUTF8(${a[0]})`,
};

const ATTRS = '`attributes`';

/** Attribute access by dotted name: JSONExtract* where the server has it, visitParamExtract* before. */
function attributeAccess(
  caps: ClickHouseCapabilities,
): Pick<SqlDialect, 'attrString' | 'attrExists' | 'attributePath' | 'attributeNames'> {
  if (caps.jsonFunctions) {
    return {
      // A JSONExtract key is one object key, dots and all: the name as it is.
      attributePath: (name) => name,
      attrString: (p) =>
        `if(JSONType(${ATTRS}, ${p}) = 'String', JSONExtractString(${ATTRS}, ${p}), ` +
        `if(JSONType(${ATTRS}, ${p}) = 'Null', NULL, JSONExtractRaw(${ATTRS}, ${p})))`,
      attrExists: (p) => `(JSONHas(${ATTRS}, ${p}) AND JSONExtractRaw(${ATTRS}, ${p}) NOT IN ('[]', 'null'))`,
      attributeNames: caps.jsonExtractKeys
        ? (rowsSql) => `SELECT DISTINCT arrayJoin(JSONExtractKeys(${ATTRS})) AS \`name\` FROM (${rowsSql}) AS s`
        : regexAttributeNames,
    };
  }
  return {
    // visitParam* look for `"<name>":` in the text, so the name is given as JSON writes it.
    attributePath: (name) => JSON.stringify(name).slice(1, -1),
    attrString: (p) =>
      `if(visitParamHas(${ATTRS}, ${p}), if(substring(visitParamExtractRaw(${ATTRS}, ${p}), 1, 1) = '"', ` +
      `visitParamExtractString(${ATTRS}, ${p}), nullIf(visitParamExtractRaw(${ATTRS}, ${p}), 'null')), NULL)`,
    attrExists: (p) => `(visitParamHas(${ATTRS}, ${p}) AND visitParamExtractRaw(${ATTRS}, ${p}) NOT IN ('[]', 'null'))`,
    attributeNames: regexAttributeNames,
  };
}

/** Keys of flat JSON objects (values are scalars or arrays of scalars), for suggestions only. */
function regexAttributeNames(rowsSql: string): string {
  const pattern = stringLiteral('"((?:[^"\\\\]|\\\\.)*)":');
  return `SELECT DISTINCT arrayJoin(extractAll(${ATTRS}, ${pattern})) AS \`name\` FROM (${rowsSql}) AS s`;
}

/** The dialect for a server with these capabilities. */
export function clickhouseDialect(caps: ClickHouseCapabilities): SqlDialect {
  const attrs = attributeAccess(caps);
  const toDouble = (exprSql: string): string => `toFloat64OrNull(toString(${exprSql}))`;
  return {
    quoteIdent: (name) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``,
    placeholder: (index, type) => `{p${index}:${PARAM_TYPES[type]}}`,
    timeBucket: (tsSql, intervalMs) => {
      if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) throw new Error(`bad interval ${intervalMs}`);
      const us = intervalMs * 1000;
      // Epoch-aligned buckets of epoch microseconds, as DuckDB's.
      return `(intDiv(${tsSql}, ${us}) * ${us})`;
    },
    timeBucketGroupKey: (tsSql, intervalMs) => `intDiv(${tsSql}, ${intervalMs * 1000})`,
    // quantile() interpolates as quantile_cont does, exactly up to 8,192 values (its reservoir), then samples.
    quantile: (exprSql, fraction) =>
      caps.quantileExactInclusive
        ? `quantileExactInclusive(${fraction})(${exprSql})`
        : `quantile(${fraction})(${exprSql})`,
    // A Nullable argument makes it NULL over no rows; DuckDB's count(DISTINCT) answers 0.
    distinctCount: (exprSql) => `ifNull(uniqExact(${exprSql}), 0)`,
    countIf: (condSql) => `countIf(${condSql})`,
    ...attrs,
    attrDouble: (p) => toDouble(attrs.attrString(p)),
    // ClickHouse's LIKE escapes with backslash already.
    like: (exprSql, patternSql) => `like(${exprSql}, ${patternSql})`,
    containsLower: (exprSql, needleSql) => `(positionUTF8(lowerUTF8(${exprSql}), ${needleSql}) > 0)`,
    arrayContains: (arraySql, valueSql) => `has(${arraySql}, ${valueSql})`,
    arrayNotEmpty: (arraySql) => `notEmpty(${arraySql})`,
    arrayAnyLike: (arraySql, patternSql) => `arrayExists(x -> like(x, ${patternSql}), ${arraySql})`,
    toDouble,
    scalarFunction: (name, args) => {
      const fn = Object.hasOwn(SCALAR_FUNCTIONS, name) ? SCALAR_FUNCTIONS[name] : undefined;
      if (!fn) throw new Error(`unknown function ${name}`);
      return fn(args);
    },
    ifThenElse: (c, a, b) => `(CASE WHEN ${c} THEN ${a} ELSE ${b} END)`,
    epochMs: (tsSql) => `intDiv(${tsSql}, 1000)`,
    argMax: (valueSql, bySql) => `argMax(${valueSql}, ${bySql})`,
    distinctValues: (exprSql, limit) => `arraySlice(groupUniqArray(${exprSql}), 1, ${Math.trunc(limit)})`,
  };
}
