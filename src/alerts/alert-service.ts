/**
 * Builds the server's AlertEngine with its metrics and logs wired in.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Store } from '../store/store.ts';
import type { SelfMetrics } from '../telemetry/self-metrics.ts';
import { ErrorGroupService } from '../errors/error-group-service.ts';
import { ErrorGrouper } from '../errors/grouping-rules.ts';
import { AlertEngine } from './alert-engine.ts';

export function createAlertEngine(
  config: Config,
  store: Store,
  metrics: SelfMetrics,
  logger: Logger,
  now?: () => number,
): AlertEngine {
  const firing = new Map<string, Map<string, string>>();
  return new AlertEngine({
    store,
    config: {
      ...config.alerts,
      externalUrl: config.alerts.externalUrl || `http://${config.server.host}:${config.server.port}`,
    },
    queryTimeoutMs: config.query.timeout,
    errorGroups: new ErrorGroupService(store, new ErrorGrouper(config.ingest.errorGrouping), {
      timeoutMs: config.query.timeout,
    }),
    ...(now ? { now } : {}),
    observer: {
      onEvaluation(tenant, result, seconds, trigger) {
        metrics.alertEvaluationSeconds.observe({ outcome: result.error ? 'error' : 'ok' }, seconds);
        metrics.alertEvaluations.inc({ trigger });
        const key = `${tenant}/${result.rule}`;
        const severities = new Map<string, string>();
        for (const i of result.state.instances) if (i.status === 'firing') severities.set(i.fingerprint, key);
        firing.set(key, severities);
        let total = 0;
        for (const m of firing.values()) total += m.size;
        metrics.alertsFiring.set({ severity: 'all' }, total);
        for (const t of result.transitions) {
          logger.info(
            { tenant, rule: t.rule, labels: t.groupLabels, from: t.from, to: t.to },
            `alert ${t.rule} ${t.to}`,
          );
        }
      },
      onBatchChecked(_tenant, matched) {
        metrics.alertBatchChecks.inc({ outcome: matched > 0 ? 'rules' : 'none' });
      },
      onDelivery(outcome) {
        metrics.alertNotifications.inc({
          receiver_type: outcome.type,
          outcome: outcome.ok ? 'delivered' : outcome.gaveUp ? 'gave_up' : 'failed',
        });
      },
      onOutboxSize(pending) {
        metrics.alertOutboxPending.set(pending);
      },
      log(level, message, details) {
        logger[level](details ?? {}, message);
      },
    },
  });
}
