/**
 * The demo shop's deploys: the releases its services run over time, and the
 * application errors that a release brings or takes away. In the demo's
 * history (the week before live traffic starts) the cart service ships a
 * release with a bug in bundle discounts (a new error group, first seen at
 * that deploy, in that release only), and the inventory service ships a fix
 * for reservations that expired while the payment was pending (that group is
 * last seen at the fix's deploy); the payment and user services ship
 * releases that change no error. A pure function of the live start, so a
 * rebuilt simulator (src/demo/demo-shop.ts) deploys at the same instants.
 */
import { ERROR_KINDS, type ErrorKind } from './app-errors.ts';
import { SERVICE_DEPLOYMENTS, type Service } from './shop-model.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One deploy: from `atMs` on, `service` runs `version`. */
export interface Deploy {
  readonly service: Service;
  readonly atMs: number;
  readonly version: string;
  readonly from: string;
  /** Error kinds this release starts raising. */
  readonly introduces?: readonly ErrorKind[];
  /** Error kinds it no longer raises. */
  readonly fixes?: readonly ErrorKind[];
  readonly note: string;
}

/** Background errors only a release raises (not in BACKGROUND_ERRORS), with their relative frequency. */
export const RELEASE_ERRORS: readonly (readonly [ErrorKind, number])[] = [[ERROR_KINDS.bundleDiscount, 6]];

/** The deploys of a demo run whose live traffic starts at `liveStartMs` (whole hours before it). */
export function demoDeploys(liveStartMs: number): Deploy[] {
  const at = (daysBefore: number, hourOffset: number) =>
    Math.floor((liveStartMs - daysBefore * DAY_MS) / HOUR_MS) * HOUR_MS + hourOffset * HOUR_MS;
  return [
    {
      service: 'payment-service',
      atMs: at(6, 0),
      from: '2.1.4',
      version: SERVICE_DEPLOYMENTS['payment-service'].version,
      note: 'gateway client retries with jitter',
    },
    {
      service: 'cart-service',
      atMs: at(3, 0),
      from: SERVICE_DEPLOYMENTS['cart-service'].version,
      version: '1.10.0',
      introduces: [ERROR_KINDS.bundleDiscount],
      note: 'bundle promotions (a bundle without a discount rate throws)',
    },
    {
      service: 'inventory-service',
      atMs: at(2, 0),
      from: SERVICE_DEPLOYMENTS['inventory-service'].version,
      version: '1.4.1',
      fixes: [ERROR_KINDS.reservationExpired],
      note: 'reservations are extended while a payment is pending',
    },
    {
      service: 'user-service',
      atMs: at(1, 0),
      from: SERVICE_DEPLOYMENTS['user-service'].version,
      version: '1.12.4',
      note: 'session store connection pool resized',
    },
  ];
}

/** Which release each service runs when, and whether an error kind is raised then. */
export class ReleaseSchedule {
  readonly deploys: readonly Deploy[];

  constructor(deploys: readonly Deploy[]) {
    this.deploys = [...deploys].sort((a, b) => a.atMs - b.atMs);
  }

  /** The release `service` runs at `tMs` (its static deployment when no deploy says otherwise). */
  versionOf(service: Service, tMs: number): string {
    let version: string | undefined;
    for (const d of this.deploys) {
      if (d.service !== service) continue;
      if (d.atMs <= tMs) version = d.version;
      else if (version === undefined) version = d.from;
    }
    return version ?? SERVICE_DEPLOYMENTS[service].version;
  }

  /** Whether errors of `kind` happen at `tMs`: not before the deploy that introduces it, nor after one that fixes it. */
  raises(kind: ErrorKind, tMs: number): boolean {
    for (const d of this.deploys) {
      if (d.introduces?.includes(kind) && tMs < d.atMs) return false;
      if (d.fixes?.includes(kind) && tMs >= d.atMs) return false;
    }
    return !RELEASE_ERRORS.some(([k]) => k === kind) || this.deploys.some((d) => d.introduces?.includes(kind));
  }
}
