/** Printing query answers as a table, JSON or CSV. */
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
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
