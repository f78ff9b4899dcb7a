/**
 * The prebuilt dashboards: JSON files in `dashboards/` at the repository
 * root, read and validated once. A broken file stops the server at start
 * with the file and the path inside it, instead of a blank page later.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardSchema, type Dashboard } from './dashboard-schema.ts';

export const PREBUILT_DIR = fileURLToPath(new URL('../../dashboards/', import.meta.url));

let cached: readonly Dashboard[] | undefined;

/** The prebuilt dashboards in file-name order (files are prefixed `10-`, `20-`, ... for the menu order). */
export function prebuiltDashboards(dir: string = PREBUILT_DIR): readonly Dashboard[] {
  if (dir === PREBUILT_DIR && cached) return cached;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const out = files.map((file) => {
    const result = dashboardSchema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new Error(`dashboards/${file}: "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'invalid'}`);
    }
    return result.data;
  });
  if (dir === PREBUILT_DIR) cached = out;
  return out;
}
