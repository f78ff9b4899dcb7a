/** The normaliser options the ingest tests share: a fixed receive time and the default limits. */
import type { NormalizeOptions } from '../../src/ingest/normalize.ts';

export const NOW = Date.parse('2026-01-01T00:00:00Z');

export const OPTIONS: NormalizeOptions = {
  tenant: 'default',
  receivedAtMs: NOW,
  maxFutureSkewMs: 3_600_000,
  maxPastAgeMs: 3650 * 86_400_000,
  maxDepth: 20,
  maxFields: 1000,
};
