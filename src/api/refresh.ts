/**
 * Elasticsearch's `refresh` parameter on ingest requests: `wait_for` answers
 * once the request's events are visible to queries (at the next refresh
 * interval), `true` (or empty) makes them visible at once, `false` (the
 * default) answers as soon as they are durable.
 */
import { AppError } from '../errors.ts';
import type { Store } from '../store/store.ts';

export type RefreshMode = 'false' | 'true' | 'wait_for';

/** Reads `refresh` from a parsed query string; 400 for anything else. */
export function refreshMode(query: unknown): RefreshMode {
  const value = (query as Record<string, unknown> | undefined)?.['refresh'];
  if (value === undefined || value === 'false') return 'false';
  if (value === '' || value === 'true') return 'true';
  if (value === 'wait_for') return 'wait_for';
  throw new AppError(
    400,
    'ingest.invalid_refresh',
    'The query parameter "refresh" must be true, false or wait_for (or empty, which means true)',
  );
}

/** Waits as `mode` asks, after the request's events were acknowledged. */
export async function applyRefresh(store: Store, mode: RefreshMode): Promise<void> {
  if (mode !== 'false') await store.refresh(mode === 'true');
}
