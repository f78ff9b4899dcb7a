/** Dashboard documents: load, save, delete, and file export/import. */
import { api } from './api.ts';
import type { Dashboard, DashboardAnswer, DashboardSummary } from './types.ts';

export const listDashboards = () => api<{ dashboards: DashboardSummary[] }>('/api/v1/dashboards');
export const getDashboard = (id: string) => api<DashboardAnswer>(`/api/v1/dashboards/${encodeURIComponent(id)}`);
export const saveDashboard = (d: Dashboard) =>
  api<DashboardAnswer>(`/api/v1/dashboards/${encodeURIComponent(d.id)}`, { method: 'PUT', body: d });
export const deleteDashboard = (id: string) =>
  api<{ deleted: boolean; restoredDefault: boolean }>(`/api/v1/dashboards/${encodeURIComponent(id)}`, {
    method: 'DELETE',
  });

/** Offers the dashboard as a `<id>.json` download. */
export function exportDashboard(d: Dashboard): void {
  const blob = new Blob([`${JSON.stringify(d, null, 2)}\n`], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${d.id}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Reads a dashboard JSON file and stores it (the server validates it and names a bad path). */
export async function importDashboard(file: File): Promise<DashboardAnswer> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await file.text());
  } catch {
    throw new Error(`${file.name} is not valid JSON`);
  }
  const id = (parsed as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '') throw new Error(`${file.name}: "id": expected the dashboard id`);
  return saveDashboard(parsed as Dashboard);
}

/** A free id for a copy: `<id>-copy`, `<id>-copy-2`, ... */
export function copyId(id: string, taken: readonly string[]): string {
  const base = `${id}-copy`.slice(0, 58);
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base}-${i}`)) return `${base}-${i}`;
}
