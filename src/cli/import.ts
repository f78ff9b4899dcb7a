/**
 * `shoplens import orders|customers|clickstream FILE.csv`: loads one of seed
 * 001's CSV files into the embedded store (`--data-dir`, server stopped) or a
 * running server (`--url`, over Elasticsearch `_bulk`). Every row has a
 * deterministic event id, so importing a file again replaces its events
 * instead of adding them twice. The row mapping is in src/ingest/csv.ts.
 */
import { createReadStream, statSync, type ReadStream } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { AppError } from '../errors.ts';
import { CSV_KINDS, csvIndexName, readCsvEvents, type CsvKind } from '../ingest/csv.ts';
import { Normalizer } from '../ingest/normalizer.ts';
import type { EventRecord } from '../schema/record.ts';
import { runQuery } from '../store/query-service.ts';
import type { Store } from '../store/store.ts';
import { configFromFlags, DEFAULT_CONFIG_FILE, parseUrl } from './config-flags.ts';
import { openStore } from './serve.ts';
import { authHeaders, postNdjson, unreachableReason } from './client.ts';

/** CSV imports go to the default tenant, as the CLI's queries do. */
const TENANT = 'default';
/** Rows sent to the store (or in one `_bulk` request) at a time. */
const BATCH_ROWS = 5_000;
/** Rejected rows printed one by one; the rest are counted. */
const MAX_LISTED_REJECTIONS = 100;

export interface ImportOptions {
  url?: string;
  dataDir?: string;
  config?: string;
}

/** A row the import refused, by its line in the CSV file. */
export interface RejectedRow {
  readonly line: number;
  readonly reason: string;
}

export interface ImportSummary {
  /** Rows stored; a row repeating an earlier row's id counts, but replaces it. */
  readonly imported: number;
  readonly rejected: readonly RejectedRow[];
  readonly elapsedMs: number;
}

/** A batch of mapped rows to store: raw events with their ids and line numbers. */
interface PendingRow {
  readonly line: number;
  readonly id: string;
  readonly event: Record<string, unknown>;
}

/** Stores one batch; returns the rows it refused. */
type BatchSink = (rows: readonly PendingRow[]) => Promise<RejectedRow[]>;

/**
 * Stores batches in the embedded store. Replacing by event id costs the store
 * a scan per batch, so it is asked for only where an older version can exist:
 * when the index already held events before this import, or for an id an
 * earlier batch of this file carried.
 */
async function storeSink(store: Store, normalizer: Normalizer, index: string): Promise<BatchSink> {
  const before = await runQuery(store, {
    query: `_index:${index} | stats count() as n`,
    from: '1970-01-01T00:00:00Z',
    to: new Date(Date.now() + normalizer.config.maxFutureSkew + 86_400_000).toISOString(),
    tenant: TENANT,
  });
  const indexHadEvents = Number(before.rows[0]?.[0] ?? 0) > 0;
  const storedIds = new Set<string>();
  return async (rows) => {
    const records: EventRecord[] = [];
    const rejected: RejectedRow[] = [];
    const ctx = { tenant: TENANT, receivedAtMs: Date.now() };
    for (const row of rows) {
      const result = normalizer.normalize(row.event, ctx, index);
      if (!result.ok) {
        rejected.push({ line: row.line, reason: result.message });
        continue;
      }
      result.record.columns['event_id'] = row.id;
      if (indexHadEvents || storedIds.has(row.id)) result.record.replaceExisting = true;
      if (!indexHadEvents) storedIds.add(row.id);
      records.push(result.record);
    }
    if (records.length > 0) await store.appendEvents(records);
    return rejected;
  };
}

function bulkSink(baseUrl: string, index: string): BatchSink {
  const endpoint = new URL('/_bulk', baseUrl);
  return async (rows) => {
    let body = '';
    for (const row of rows)
      body += `${JSON.stringify({ index: { _index: index, _id: row.id } })}\n${JSON.stringify(row.event)}\n`;
    let response: Response;
    try {
      response = await postNdjson(endpoint, body);
    } catch (err) {
      throw new AppError(503, 'import.unreachable', `Cannot reach Shoplens at ${baseUrl}: ${unreachableReason(err)}`);
    }
    const json = (await response.json().catch(() => ({}))) as {
      items?: Record<string, { status?: number; error?: { reason?: string } }>[];
      error?: { message?: string; reason?: string };
    };
    if (!response.ok || !Array.isArray(json.items)) {
      throw new AppError(
        response.status,
        'import.http_error',
        `Shoplens at ${baseUrl} refused the rows: HTTP ${response.status} ${json.error?.message ?? json.error?.reason ?? ''}`.trim(),
      );
    }
    const rejected: RejectedRow[] = [];
    json.items.forEach((item, i) => {
      const result = Object.values(item)[0];
      const row = rows[i];
      if (row && result && (result.status ?? 500) >= 300) {
        // The server's reason names the line of the bulk body; the CSV line is what the user needs.
        rejected.push({ line: row.line, reason: (result.error?.reason ?? 'rejected').replace(/^line \d+: /, '') });
      }
    });
    return rejected;
  };
}

/** Progress on stderr: a cli-progress bar on a terminal, otherwise a line about every 10 %. */
function progressReporter(file: string, totalBytes: number, kind: CsvKind) {
  const startMs = Date.now();
  const rate = (rows: number) => Math.round(rows / Math.max((Date.now() - startMs) / 1000, 0.001));
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${kind} |{bar}| {percentage}% | {rows} rows | {rate} rows/s | {rejected} rejected`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(totalBytes, 1), 0, { rows: 0, rate: 0, rejected: 0 });
    return {
      update: (bytes: number, rows: number, rejected: number) =>
        bar.update(bytes, { rows, rate: rate(rows), rejected }),
      stop: () => bar.stop(),
    };
  }
  let nextReport = 0.1;
  return {
    update: (bytes: number, rows: number, rejected: number) => {
      const fraction = bytes / Math.max(totalBytes, 1);
      if (fraction < nextReport) return;
      nextReport = Math.floor(fraction * 10) / 10 + 0.1;
      process.stderr.write(
        `${file}: ${Math.floor(fraction * 100)}% | ${rows} rows | ${rate(rows)} rows/s | ${rejected} rejected\n`,
      );
    },
    stop: () => undefined,
  };
}

/** Reads `file` and stores its rows through `sink`, reporting progress. */
export async function importCsvFile(
  kind: CsvKind,
  file: string,
  sink: BatchSink,
  onProgress: (bytes: number, rows: number, rejected: number) => void = () => undefined,
): Promise<ImportSummary> {
  const startMs = Date.now();
  let stream: ReadStream;
  try {
    statSync(file);
    stream = createReadStream(file);
  } catch (err) {
    throw new AppError(400, 'import.no_file', `Cannot read ${file}: ${(err as Error).message}`);
  }
  const rejected: RejectedRow[] = [];
  let imported = 0;
  // By id: a row repeated within one batch keeps only its last version, as a re-import would.
  let batch = new Map<string, PendingRow>();
  let duplicates = 0;
  const flush = async () => {
    if (batch.size === 0) return;
    const rows = [...batch.values()];
    const refused = await sink(rows);
    imported += rows.length - refused.length;
    rejected.push(...refused);
    batch = new Map();
    onProgress(stream.bytesRead, imported, rejected.length);
  };
  for await (const row of readCsvEvents(kind, stream)) {
    if (row.ok) {
      if (batch.delete(row.id)) duplicates++;
      batch.set(row.id, row);
    } else {
      rejected.push({ line: row.line, reason: row.reason });
    }
    if (batch.size >= BATCH_ROWS) await flush();
  }
  await flush();
  onProgress(stream.bytesRead, imported, rejected.length);
  rejected.sort((a, b) => a.line - b.line);
  return { imported: imported + duplicates, rejected, elapsedMs: Date.now() - startMs };
}

async function runImport(kind: CsvKind, file: string, options: ImportOptions): Promise<ImportSummary> {
  let totalBytes = 0;
  try {
    totalBytes = statSync(file).size;
  } catch (err) {
    throw new AppError(400, 'import.no_file', `Cannot read ${file}: ${(err as Error).message}`);
  }
  const progress = progressReporter(file, totalBytes, kind);
  try {
    if (options.url) {
      const summary = await importCsvFile(kind, file, bulkSink(options.url, csvIndexName(kind)), progress.update);
      // Imported rows are on the dashboards when the command returns (the server shows data within a second).
      await fetch(new URL('/_refresh', options.url), { method: 'POST', headers: authHeaders() });
      return summary;
    }
    const config = configFromFlags(options);
    const store = await openStore(config);
    try {
      const sink = await storeSink(store, new Normalizer(config.ingest, config.privacy), csvIndexName(kind));
      return await importCsvFile(kind, file, sink, progress.update);
    } finally {
      await store.close();
    }
  } finally {
    progress.stop();
  }
}

/** Adds `shoplens import` to the program. */
export function registerImportCommand(program: Command): Command {
  return program
    .command('import')
    .description(
      'Import an orders, customers or clickstream CSV file (exit code 2 when rows were rejected); importing a file again replaces its rows',
    )
    .addArgument(program.createArgument('<kind>', 'what the file holds').choices(CSV_KINDS))
    .argument(
      '<file>',
      "the CSV file, whose header is exactly its kind's columns in order (a wrong header is refused, naming the expected columns)",
    )
    .addOption(new Option('--url <url>', 'send to a running server, e.g. http://127.0.0.1:8080').argParser(parseUrl))
    .option('--data-dir <dir>', 'write to the embedded store in this directory directly (server must be stopped)')
    .option('--config <file>', `YAML config file (default ./${DEFAULT_CONFIG_FILE} if present)`)
    .action(async (kind: CsvKind, file: string, options: ImportOptions) => {
      if (options.url && options.dataDir) throw new InvalidArgumentError('give either --url or --data-dir, not both');
      const summary = await runImport(kind, file, options);
      for (const row of summary.rejected.slice(0, MAX_LISTED_REJECTIONS)) {
        process.stderr.write(`line ${row.line}: ${row.reason}\n`);
      }
      if (summary.rejected.length > MAX_LISTED_REJECTIONS) {
        process.stderr.write(`… and ${summary.rejected.length - MAX_LISTED_REJECTIONS} more rejected rows\n`);
      }
      const seconds = summary.elapsedMs / 1000;
      process.stdout.write(
        `Imported ${summary.imported} ${kind} rows from ${file} in ${seconds.toFixed(1)} s ` +
          `(${Math.round(summary.imported / Math.max(seconds, 0.001))} rows/s); ${summary.rejected.length} rejected\n`,
      );
      if (summary.rejected.length > 0) process.exitCode = 2;
    });
}
