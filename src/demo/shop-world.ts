/**
 * Everything the parts of the simulator share for one seed: catalog,
 * customers, calendar, pods, and the conditions (baseline or changed by an
 * incident hook) at any moment.
 */
import type { Catalog } from './catalog.ts';
import type { ShopConditions } from './conditions.ts';
import type { CustomerBase } from './customers.ts';
import type { ShopCalendar } from './seasonality.ts';
import type { Random } from './random.ts';
import type { Service } from './shop-model.ts';

/** One running pod of a service. */
export interface Pod {
  readonly service: Service;
  /** `order-service-7d4b8c9f-x2k8l`: service, replica-set hash, pod suffix, as Kubernetes names pods. */
  readonly name: string;
  readonly node: string;
}

export interface ShopWorld {
  readonly seed: number;
  readonly catalog: Catalog;
  readonly customers: CustomerBase;
  readonly calendar: ShopCalendar;
  /** Every pod, services in SERVICES order. */
  readonly pods: readonly Pod[];
  /** A pod of the service to handle one request. */
  podFor(service: Service, random: Random): Pod;
  /** Conditions at `tMs`: the baseline unless an incident hook changes them. */
  conditionsAt(tMs: number): ShopConditions;
  /** The release `service` runs at `tMs` (src/demo/releases.ts); absent: its static deployment. */
  releaseOf?(service: Service, tMs: number): string;
}
