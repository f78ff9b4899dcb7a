/**
 * Payment-gateway health checks: payment-service probes each gateway every
 * 5 s (shop time) and records an `event.type:health_check` event with the
 * gateway, success or failure and latency. The demo's stripe sees less than
 * one payment a minute, so payments alone cannot show an outage within 90 s;
 * the probes fail during a gateway outage (as the gateway's error and timeout
 * rates say) and the pack's PaymentGatewayDown rule reads them (issue 13).
 * Probes have their own random source, so the rest of the simulation is
 * unchanged for a given seed; they are thinned with the demo's traffic scale
 * (scale 0.1 keeps one probe in ten).
 */
import type { DemoEvent } from './demo-event.ts';
import { hashText, Random } from './random.ts';
import { GATEWAY_MEDIAN_MS, GATEWAY_TIMEOUT_MS, GATEWAYS, SERVICE_DEPLOYMENTS } from './shop-model.ts';
import type { ShopWorld } from './shop-world.ts';

/** One probe per gateway this often, ms. */
export const HEALTH_CHECK_INTERVAL_MS = 5_000;
/** A probe gives up after this long, ms. */
const PROBE_TIMEOUT_MS = 5_000;

const HEALTH_TAG = hashText('gateway-health');

/** Health-check events per second at traffic scale `scale` (thinned above scale 1 never: at most every 5 s). */
export function healthChecksPerSecond(scale: number): number {
  return (GATEWAYS.length * Math.min(1, Math.max(0, scale))) / (HEALTH_CHECK_INTERVAL_MS / 1000);
}

/** The probes of every gateway in the minute slot from `slotStartMs` (of length `slotMs`). */
export function sampleGatewayHealth(
  world: ShopWorld,
  slotStartMs: number,
  slotMs: number,
  scale: number,
  out: DemoEvent[],
): void {
  const keep = Math.min(1, Math.max(0, scale));
  if (keep === 0) return;
  const random = Random.derive(world.seed, HEALTH_TAG, Math.floor(slotStartMs / slotMs));
  const pod = world.pods.find((p) => p.service === 'payment-service');
  for (let t = slotStartMs; t < slotStartMs + slotMs; t += HEALTH_CHECK_INTERVAL_MS) {
    const conditions = world.conditionsAt(t);
    for (const gateway of GATEWAYS) {
      // Always draw the same numbers, so thinning or conditions never shift the other probes.
      const kept = random.next();
      const u = random.next();
      const jitter = random.int(0, 400);
      const latency = random.logNormal(GATEWAY_MEDIAN_MS[gateway] * 0.4, 0.3);
      if (kept >= keep) continue;
      const timeoutRate = conditions.gatewayTimeoutRate[gateway];
      const errorRate = conditions.gatewayErrorRate[gateway];
      const result = u < timeoutRate ? 'timeout' : u < timeoutRate + errorRate ? 'error' : 'ok';
      const latencyMs =
        result === 'timeout'
          ? Math.min(PROBE_TIMEOUT_MS, GATEWAY_TIMEOUT_MS)
          : Math.round(result === 'error' ? latency * 0.5 : latency + conditions.gatewayExtraLatencyMs[gateway]);
      const success = result === 'ok';
      out.push({
        tsMs: t + jitter,
        body: {
          service: {
            name: 'payment-service',
            version: SERVICE_DEPLOYMENTS['payment-service'].version,
            ...(pod ? { instance: pod.name } : {}),
          },
          event: {
            category: 'payment',
            type: 'health_check',
            dataset: 'payment.gateway_health',
            outcome: success ? 'success' : 'failure',
          },
          health_check: {
            gateway,
            success,
            status: result,
            status_code: result === 'ok' ? 200 : result === 'timeout' ? 504 : 502,
            latency_ms: latencyMs,
          },
          message: success
            ? `Health check ${gateway}: ok in ${latencyMs} ms`
            : `Health check ${gateway} failed: ${result === 'timeout' ? `no answer in ${latencyMs} ms` : '502 Bad Gateway'}`,
        },
      });
    }
  }
}
