/**
 * Infrastructure samples per service, pod and node: CPU, memory, disk and
 * network I/O, database connection pool and cache hit rate. Load follows the
 * shop's traffic curve, and an incident's `resourcePressure` pushes a service towards saturation.
 */
import type { DemoEvent } from './demo-event.ts';
import { clamp, hashText, oneDecimal, Random } from './random.ts';
import {
  K8S_CLUSTER,
  K8S_NAMESPACE,
  NODES,
  SERVICE_DEPLOYMENTS,
  SERVICES,
  SERVICES_WITH_DATABASE,
  type Service,
} from './shop-model.ts';
import type { Pod, ShopWorld } from './shop-world.ts';

/** CPU % of one pod at average traffic; memory limit in MB. */
const PROFILE: Readonly<Record<Service, { readonly cpu: number; readonly memoryLimitMb: number }>> = {
  'api-gateway': { cpu: 30, memoryLimitMb: 512 },
  'user-service': { cpu: 20, memoryLimitMb: 1024 },
  'catalog-service': { cpu: 34, memoryLimitMb: 2048 },
  'cart-service': { cpu: 24, memoryLimitMb: 1024 },
  'order-service': { cpu: 32, memoryLimitMb: 1024 },
  'payment-service': { cpu: 27, memoryLimitMb: 1024 },
  'inventory-service': { cpu: 22, memoryLimitMb: 1024 },
  'shipping-service': { cpu: 15, memoryLimitMb: 512 },
};

const DB_POOL_SIZE = 20;

/** The pods of every service for a seed (names and node placement are seeded). */
export function createPods(seed: number): readonly Pod[] {
  const random = Random.derive(seed, hashText('pods'));
  const pods: Pod[] = [];
  let nodeIndex = random.int(0, NODES.length - 1);
  for (const service of SERVICES) {
    const replicaSet = random.hex(9);
    for (let i = 0; i < SERVICE_DEPLOYMENTS[service].replicas; i++) {
      pods.push(
        Object.freeze({
          service,
          name: `${service}-${replicaSet}-${random.base36(5)}`,
          node: NODES[nodeIndex++ % NODES.length] as string,
        }),
      );
    }
  }
  return Object.freeze(pods);
}

/** One sample of every pod at `tMs`, covering `intervalMs` of I/O. */
export function sampleInfrastructure(world: ShopWorld, tMs: number, intervalMs: number, out: DemoEvent[]): void {
  const random = Random.derive(world.seed, hashText('infra'), tMs);
  const conditions = world.conditionsAt(tMs);
  const load = world.calendar.trafficMultiplier(tMs) * conditions.trafficMultiplier;
  const seconds = intervalMs / 1000;
  for (const pod of world.pods) {
    const service = pod.service;
    const profile = PROFILE[service];
    const pressure = clamp(conditions.resourcePressure[service], 0, 1);
    const busy = Math.min(load, 3);
    const cpu = clamp(profile.cpu * (0.4 + 0.6 * busy) + random.normal(0, 3) + pressure * 60, 1, 99.5);
    const memoryShare = clamp(0.38 + 0.08 * busy + pressure * 0.5 + random.normal(0, 0.02), 0.1, 0.99);
    const requestsPerSecond = 8 * busy * (1 + pressure);
    const body: Record<string, unknown> = {
      service: { name: service, version: SERVICE_DEPLOYMENTS[service].version, instance: pod.name },
      event: { category: 'performance', type: 'infrastructure', dataset: 'kubernetes.pod' },
      infrastructure: {
        cpu_usage: oneDecimal(cpu),
        memory_usage: Math.round(profile.memoryLimitMb * memoryShare),
        memory_limit: profile.memoryLimitMb,
        disk_io: {
          read_bytes: Math.round(seconds * random.logNormal(14_000 * (1 + busy), 0.35)),
          write_bytes: Math.round(seconds * random.logNormal(7_000 * (1 + busy), 0.35)),
        },
        network_io: {
          bytes_sent: Math.round(seconds * requestsPerSecond * random.logNormal(2_048, 0.2)),
          bytes_received: Math.round(seconds * requestsPerSecond * random.logNormal(4_096, 0.2)),
        },
      },
      kubernetes: { namespace: K8S_NAMESPACE, pod: pod.name, node: pod.node, cluster: K8S_CLUSTER },
    };
    if (SERVICES_WITH_DATABASE.has(service)) {
      const active = Math.round(clamp(2 + 4 * busy + random.normal(0, 1) + pressure * 16, 0, DB_POOL_SIZE));
      body['database'] = {
        connection_pool_size: DB_POOL_SIZE,
        active_connections: active,
        pool_usage_percent: oneDecimal((active / DB_POOL_SIZE) * 100),
        query_time: oneDecimal(random.logNormal(12 * (1 + 0.2 * busy) * (1 + pressure * 10), 0.3)),
      };
    }
    body['cache'] = {
      hit_rate:
        Math.round(clamp(0.92 - 0.03 * busy - pressure * 0.4 + random.normal(0, 0.012), 0.2, 0.995) * 1000) / 1000,
      response_time: oneDecimal(random.logNormal(2 + pressure * 6, 0.3)),
      provider: 'redis',
    };
    out.push({ tsMs: tMs, body });
  }
}
