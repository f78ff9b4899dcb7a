/** Printing query answers as a table, JSON or CSV. */
import type { Writable } from 'node:stream';
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import type { QueryAnswer } from '../store/query-service.ts';
import type { ResultColumn } from '../store/store.ts';

export type OutputFormat = 'table' | 'json' | 'csv';

interface Answer {
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly (readonly unknown[])[];
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function formatAnswer(answer: Answer, format: OutputFormat): string {
  const names = answer.columns.map((c) => c.name);
  if (format === 'json') {
    return JSON.stringify(
      answer.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i] ?? null]))),
      null,
      2,
    );
  }
  if (format === 'csv') {
    return stringify([names, ...answer.rows.map((row) => row.map(cell))]).trimEnd();
  }
  // The full event document is too wide for a terminal table; its summary columns are shown.
  const shown = names.map((n, i) => ({ n, i })).filter(({ n }) => n !== '_source');
  const table = new Table({ head: shown.map(({ n }) => n), style: { head: [], border: [] } });
  for (const row of answer.rows) table.push(shown.map(({ i }) => cell(row[i])));
  return table.toString();
}

/** The line under a table: rows, events in range, time and the range itself. */
export function formatSummary(answer: Pick<QueryAnswer, 'rows' | 'stats' | 'range'>): string {
  return `${answer.rows.length} rows, ${answer.stats.rowsScanned} events in range, ${answer.stats.elapsedMs} ms (${answer.range.from} → ${answer.range.to})`;
}

function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}

/**
 * Prints an answer on `out`; for a table, then the summary on `err` (so a
 * pipe gets only the table), a blank line below it. The summary waits until
 * `out` has taken the table: stdout is asynchronous on some platforms (pipes
 * on macOS, terminals on Windows), and a summary written at once to stderr
 * could land inside or right against the table when both show in one
 * terminal or file (`2>&1`).
 */
export async function printAnswer(
  answer: QueryAnswer,
  format: OutputFormat,
  out: Writable = process.stdout,
  err: Writable = process.stderr,
): Promise<void> {
  await write(out, `${formatAnswer(answer, format)}\n`);
  if (format === 'table') await write(err, `\n${formatSummary(answer)}\n`);
  // Warnings go to stderr in every format, so a pipe of JSON or CSV stays clean.
  for (const w of answer.warnings ?? []) await write(err, `warning: ${w.message}\n`);
}
