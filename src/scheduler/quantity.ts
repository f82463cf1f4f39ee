/**
 * Kubernetes resource quantities ("100m", "1.5", "128Mi", "1e3") as plain numbers. The scheduler
 * only needs cpu in millicores and everything else in base units, as upstream's MilliValue()/Value()
 * (both round up).
 */
import { parseQuantity } from '../util/quantity.js';

export { parseQuantity };

/** Millicores, rounded up as resource.Quantity.MilliValue(). */
export function milli(q: string | number | undefined): number {
  return Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}

/** Base units, rounded up as resource.Quantity.Value(). */
export function value(q: string | number | undefined): number {
  return Math.ceil(parseQuantity(q) - 1e-9);
}
