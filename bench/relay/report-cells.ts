import type { DeliveryCheck } from "./deliveries.ts";
import { fixed, percentile } from "./stats.ts";

/** Table cells shared by the relay benchmark's sections. */
export const ms = (samples: readonly number[], p: number) => fixed(percentile(samples, p));
export const kib = (bytes: number) => fixed(bytes / 1024, 1);
export const checkCells = (check: DeliveryCheck) => [
  String(check.lost),
  String(check.duplicates),
  String(check.outOfOrder),
];
export const clean = (check: DeliveryCheck) =>
  check.lost === 0 && check.duplicates === 0 && check.outOfOrder === 0;
