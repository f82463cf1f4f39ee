/**
 * The two quantity operations the HPA needs, as apimachinery's resource.Quantity: MilliValue()
 * (rounded up) of a spec/usage string, and NewMilliQuantity(v, DecimalSI).String() for statuses.
 */
import { parseQuantity } from '../../util/quantity.js';

/** The quantity in thousandths of its unit, rounded up; NaN when malformed, 0 when absent. */
export function milliValue(q: string | number | undefined | null): number {
  if (q === undefined || q === null) return 0;
  if (typeof q === 'number') return Math.ceil(q * 1000);
  const base = parseQuantity(q);
  if (Number.isNaN(base)) return NaN;
  // Round away float noise first (0.1*1000 = 100.00000000000001), then up, as MilliValue.
  return Math.ceil(Math.round(base * 1000 * 1e6) / 1e6);
}

const DECIMAL = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** A milli-value printed as a DecimalSI quantity: 1500 → "1500m", 2000 → "2", 5e9 → "5M". */
export function formatMilli(v: number): string {
  v = Math.trunc(v);
  if (v === 0) return '0';
  if (v % 1000 !== 0) return `${v}m`;
  let n = v / 1000;
  let i = 0;
  while (i < DECIMAL.length - 1 && n % 1000 === 0) {
    n /= 1000;
    i++;
  }
  return `${n}${DECIMAL[i]}`;
}
