/**
 * Shoplens configuration: one zod schema, parsed once at start, frozen.
 * Precedence: defaults < YAML file < environment `SHOPLENS_*` < CLI flags.
 *
 * Environment names are the dotted key path in SCREAMING_SNAKE_CASE:
 * `server.port` → `SHOPLENS_SERVER_PORT`, `ingest.maxLineBytes` →
 * `SHOPLENS_INGEST_MAX_LINE_BYTES`, `dataDir` → `SHOPLENS_DATA_DIR`.
 * Object-valued keys (like `ingest.indexDataClass`) take JSON.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { alertsConfigSchema } from './alerts/alerts-config.ts';
import { errorGroupingSchema } from './errors/grouping-rules.ts';
import { privacyConfigSchema } from './privacy/privacy-config.ts';
import { dataObject, ownValue } from './schema/data-object.ts';
import { DATA_CLASSES } from './schema/fields.ts';
import { KPI_NAMES } from './store/kpis.ts';
import { parseDuration } from './util/duration.ts';

/** A duration such as "10m", kept as text in the file and as milliseconds once parsed. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  try {
    return parseDuration(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a duration like "250ms", "30s", "5m", "1h" or "7d"' });
    return z.NEVER;
  }
});

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
/** A size such as "10mb" or a number of bytes. */
const byteSize = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(String(value));
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'expected a size like 1048576, "512kb" or "10mb"' });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] ?? 1));
});

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z
  .object({
    /** Directory for the embedded store and other state. */
    dataDir: z.string().min(1).default('./data'),
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8080),
        /** Largest request body accepted (after decompression); larger → 413. */
        maxBodyBytes: byteSize.prefault(50 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    /** OpenTelemetry input beside OTLP/HTTP on the main port (docs/otlp.md). */
    otlp: z
      .object({
        /** OTLP/gRPC on a second port, on `server.host`, for gRPC exporters and Collectors. */
        grpc: z
          .object({
            enabled: z.boolean().default(true),
            /** 4317 is the port the OTLP specification names for gRPC; 0 = any free port. */
            port: port.default(4317),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    store: z
      .object({
        /** `duckdb` (embedded, in dataDir) or `clickhouse` (a server, store.clickhouse; docs/clickhouse.md). */
        engine: z.enum(['duckdb', 'clickhouse']).default('duckdb'),
        /** The ClickHouse server when engine is `clickhouse`: its HTTP interface and the database to use. */
        clickhouse: z
          .object({
            url: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8123'),
            database: z
              .string()
              .regex(
                /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
                'expected letters, digits and _ (at most 64), not starting with a digit',
              )
              .default('shoplens'),
            username: z.string().default('default'),
            /** Best set from the environment (SHOPLENS_STORE_CLICKHOUSE_PASSWORD), not the config file. */
            password: z.string().default(''),
          })
          .strict()
          .prefault({}),
        /**
         * DuckDB memory limit, e.g. "4GB"; empty = DuckDB's default (80 % of RAM). DuckDB keeps
         * table pages it has read or written cached up to this limit, so it bounds the server's
         * memory; larger queries spill to disk. Loads share it with queries and need room for a
         * whole row group: at 128MB a load ran out of memory beside the alert pack's queries, at
         * 256MB a demo history load of 127k late rows did. Under sustained ingest the pool fills to the limit
         * (rows waiting in the WAL for their checkpoint, then cached blocks), and the process's RSS peaks at about
         * the limit + 350 MB: 1,211 MB at 1GB, 856 MB at 512MB over 1 M API-request events (bench, ingest part).
         */
        duckdbMemoryLimit: z.string().default('512MB'),
        /** WAL size that triggers a DuckDB checkpoint. */
        duckdbCheckpointThreshold: z
          .string()
          .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$/i, 'expected a size like "256MB"')
          .default('256MB'),
        /** DuckDB worker threads; 0 = one per core. */
        duckdbThreads: z.coerce.number().int().min(0).default(0),
        /** Acknowledged data is visible to queries within this long (the ingest log is loaded this often); 0ms = at once. */
        refreshInterval: duration.prefault('1s'),
        /**
         * An ingest log segment is loaded once it holds this many rows, or at the refresh interval; new DuckDB
         * row groups hold this many rows too, so that a full segment is written once (a multiple of 2048).
         */
        segmentRows: positiveInt
          .refine((n) => n % 2048 === 0, 'expected a multiple of 2048 (DuckDB writes rows in vectors of 2048)')
          .default(32_768),
        /** Most bytes of ingest log not yet loaded into the store; beyond it ingest answers 429 with Retry-After. */
        maxLogSize: byteSize.prefault('512mb'),
        /** Most time loading the ingest log's backlog may take at the recent rate; beyond: 429 + Retry-After (0ms = off). */
        maxLoadLag: duration.prefault('5s'),
        /**
         * DuckDB threads while log segments keep loading (one thread writes whole row groups; the count is
         * per instance, and changing it at every load cost a fifth of the load); queries get duckdbThreads
         * back 5 s after the last load, when its memory is trimmed too. 0 = as many as queries.
         */
        duckdbLoadThreads: z.coerce.number().int().min(0).default(1),
        /** How often the minute rollups (fast queries over days) catch up with new events; 0ms = never. */
        rollupInterval: duration.prefault('10s'),
      })
      .strict()
      .prefault({}),
    ingest: z
      .object({
        /** Longest NDJSON line or bulk item accepted; longer lines are rejected one by one. */
        maxLineBytes: byteSize.prefault(1024 * 1024),
        /** Events with a timestamp further in the future than this are rejected. */
        maxFutureSkew: duration.prefault('1h'),
        /** Events older than this are rejected. */
        maxPastAge: duration.prefault('3650d'),
        /** Deepest nesting of objects accepted in one event. */
        maxDepth: positiveInt.default(20),
        /** Most fields (after flattening) accepted in one event. */
        maxFields: positiveInt.default(1000),
        /** Worker threads that parse and normalise /api/v1/events bodies; 0 = on the main thread. */
        workers: z.coerce.number().int().min(0).max(64).default(availableParallelism()),
        /** Most bytes of ingest bodies being prepared or waiting for commit; beyond it: 429 with Retry-After (0 = off). */
        maxPendingBytes: byteSize.prefault('64mb'),
        /** Most time the waiting ingest work may be estimated to take to commit; beyond: 429 + Retry-After (0 = off). */
        maxQueueDelay: duration.prefault('2s'),
        /** Elasticsearch index pattern → data class (first match wins; `*` wildcards). */
        indexDataClass: z
          .record(z.string(), z.enum(DATA_CLASSES))
          .default({ 'audit-*': 'audit', 'security-*': 'security', 'logs-*': 'app' }),
        /** Error grouping rules: force or merge groups (src/errors/grouping-rules.ts, docs/errors.md). */
        errorGrouping: errorGroupingSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    query: z
      .object({
        /** Longest a query may run before it is cancelled. */
        timeout: duration.prefault('30s'),
        /** Most characters of query text (longer: 400 `query.too_long`, before anything scans it). */
        maxLength: positiveInt.default(65_536),
        /** Rows returned by an event search without `| limit`. */
        defaultLimit: positiveInt.default(100),
        /** Most rows any query returns. */
        maxRows: positiveInt.default(100_000),
        /**
         * Server-side answer cache for requests that ask for it (`maxAge`, as dashboard panels
         * do): most result cells (rows × columns) kept in memory; 0 turns it off.
         */
        cacheMaxCells: z.coerce.number().int().min(0).default(2_000_000),
      })
      .strict()
      .prefault({}),
    /**
     * `keys` (default): every route but /health and /ready needs an API key.
     * `none`: no keys; Shoplens then listens on loopback only.
     */
    auth: z.enum(['keys', 'none']).default('keys'),
    /** Per-tenant rate limits (token buckets); 0 = unlimited. Over the limit: 429 with Retry-After. */
    limits: z
      .object({
        /** Ingest request bodies per tenant, bytes per second (sustained). */
        ingestBytesPerSecond: byteSize.or(z.literal(0)).prefault('64mb'),
        /** Ingest burst per tenant, bytes. */
        ingestBurstBytes: byteSize.prefault('256mb'),
        /** Queries (and other reads) per tenant per second (sustained). */
        queriesPerSecond: z.coerce.number().min(0).default(50),
        /** Query burst per tenant. */
        queryBurst: positiveInt.default(200),
      })
      .strict()
      .prefault({}),
    /** How long each data class is kept; a periodic job deletes older events and reports what it deleted. */
    retention: z
      .object({
        app: duration.prefault('30d'),
        security: duration.prefault('365d'),
        audit: duration.prefault('2555d'),
        business: duration.prefault('365d'),
        /** Expired raw events are first folded into hourly rollups (counts, sums, min/max per service, type, outcome, route, ...), kept this long. */
        rollups: duration.prefault('365d'),
        /** How often the retention job runs; 0 = never. */
        interval: duration.prefault('1h'),
      })
      .strict()
      .prefault({}),
    /** Alerting: rules, receivers, routing (see src/alerts/alerts-config.ts). */
    alerts: alertsConfigSchema.prefault({}),
    /** Redaction before anything is written (docs/security.md, "Redaction"). */
    privacy: privacyConfigSchema.prefault({}),
    metrics: z
      .object({
        /** Business KPIs exported on /metrics (src/store/kpis.ts); [] = none. */
        business: z.array(z.enum(KPI_NAMES)).default([...KPI_NAMES]),
        /** The checkout API's route (`http.route`): its api_request events count as checkout attempts. */
        checkoutRoute: z.string().min(1).default('/api/checkout'),
        /** Most series per business metric; label sets beyond it are counted under the value "other". */
        maxSeries: positiveInt.default(1000),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The parsed, frozen configuration. Durations are milliseconds, sizes bytes. */
export type Config = Readonly<z.output<typeof configSchema>>;
/** What a file, the environment or flags may set. */
export type ConfigInput = z.input<typeof configSchema>;

/** Configuration that cannot be used; the message names key, value and expectation. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Source = { kind: 'file'; path: string } | { kind: 'env' } | { kind: 'flags' } | { kind: 'defaults' };

function describeSource(source: Source | undefined, key: string): string {
  if (!source) return '';
  switch (source.kind) {
    case 'file':
      return ` (from ${source.path})`;
    case 'env':
      return ` (from environment ${envName(key.split('.'))})`;
    case 'flags':
      return ' (from command-line flags)';
    case 'defaults':
      return '';
  }
}

function envName(path: readonly (string | number)[]): string {
  return (
    'SHOPLENS_' +
    path
      .map((p) =>
        String(p)
          .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
          .toUpperCase(),
      )
      .join('_')
  );
}

/** Every leaf key path of the defaults, to map environment variables onto. */
function leafPaths(obj: Record<string, unknown>, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !isRecordKey(prefix, k)) {
      out.push(...leafPaths(v as Record<string, unknown>, [...prefix, k]));
    } else out.push([...prefix, k]);
  }
  return out;
}

/** Keys whose value is a free-form record (set as JSON from the environment). */
function isRecordKey(prefix: string[], key: string): boolean {
  return prefix.join('.') === 'ingest' && key === 'indexDataClass';
}

// The layers are built from file, environment and flag keys: null-prototype objects and own-key
// reads only, so that a key like `__proto__` stays a key (that the schema then reports or drops).

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = ownValue(node, key);
    if (next === null || typeof next !== 'object') node[key] = dataObject();
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function getPath(obj: unknown, path: readonly (string | number)[]): unknown {
  let node = obj;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = ownValue(node, String(key));
  }
  return node;
}

function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = dataObject();
  for (const [k, v] of Object.entries(base)) out[k] = v;
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> =>
      x !== null && typeof x === 'object' && !Array.isArray(x);
    out[k] = isObj(b) && isObj(v) ? mergeDeep(b, v) : v;
  }
  return out;
}

function readEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const defaults = configSchema.parse({}) as unknown as Record<string, unknown>;
  const out = dataObject();
  for (const path of leafPaths(defaults)) {
    const raw = env[envName(path)];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    // A boolean setting reads `true`/`false` from the environment as the YAML file would.
    if (typeof getPath(defaults, path) === 'boolean' && /^(true|false)$/i.test(raw.trim())) {
      value = raw.trim().toLowerCase() === 'true';
    }
    if (isRecordKey(path.slice(0, -1), path[path.length - 1] as string)) {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new ConfigError(
          `Invalid configuration: ${path.join('.')} = ${JSON.stringify(raw)} (from environment ${envName(path)}): expected a JSON object`,
        );
      }
    }
    setPath(out, path, value);
  }
  return out;
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const where = first?.linePos?.[0] ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}` : '';
    throw new ConfigError(`Config file ${path} is not valid YAML${where}: ${first?.message ?? 'parse error'}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`Config file ${path} must hold a mapping of keys to values`);
  }
  return value as Record<string, unknown>;
}

/**
 * Builds the configuration from its sources. Throws ConfigError naming the
 * key, the value, where it came from and what was expected.
 */
export function loadConfig(
  options: { file?: string; env?: NodeJS.ProcessEnv; flags?: Record<string, unknown> } = {},
): Config {
  const layers: { source: Source; values: Record<string, unknown> }[] = [];
  if (options.file) layers.push({ source: { kind: 'file', path: options.file }, values: readFile(options.file) });
  layers.push({ source: { kind: 'env' }, values: readEnv(options.env ?? process.env) });
  if (options.flags) layers.push({ source: { kind: 'flags' }, values: options.flags });

  let merged = dataObject();
  for (const layer of layers) merged = mergeDeep(merged, layer.values);

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      const key = path.join('.');
      const value = getPath(merged, path);
      const source = [...layers].reverse().find((l) => getPath(l.values, path) !== undefined)?.source;
      if (issue.code === 'unrecognized_keys') {
        const where = key ? `${key}.` : '';
        return `unknown key ${issue.keys.map((k) => where + k).join(', ')}${describeSource(source, key)}`;
      }
      const shown = value === undefined ? '(missing)' : JSON.stringify(value);
      return `${key} = ${shown}${describeSource(source, key)}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
