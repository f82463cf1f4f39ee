/**
 * The metrics API's quantities and durations as metrics-server writes them: CPU as a decimal
 * quantity at nano scale ("123456n", canonicalised to "123u", "1500m", "2"), memory as a binary
 * quantity ("12345Ki"; a byte count that is not a multiple of 1024 stays a plain number), windows
 * as Go's time.Duration String ("15.02s", "1m0.5s").
 */

const DECIMAL_SUFFIX: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Canonical DecimalSI form of the integer `n` × 10^`exp` (apimachinery's Quantity.String). */
export function decimalQuantity(n: number, exp: number): string {
  n = Math.round(n);
  if (n === 0) return '0';
  const neg = n < 0;
  let m = BigInt(Math.abs(n));
  while (m % 10n === 0n) {
    m /= 10n;
    exp++;
  }
  // The exponent is a multiple of 3, rounded down: the mantissa takes the difference.
  while (((exp % 3) + 3) % 3 !== 0) {
    m *= 10n;
    exp--;
  }
  while (exp > 18) {
    m *= 1000n;
    exp -= 3;
  }
  return (neg ? '-' : '') + m.toString() + DECIMAL_SUFFIX[exp];
}

/** CPU in nanocores, as metrics-server's usage.cpu. */
export function cpuQuantity(nanoCores: number): string {
  return decimalQuantity(nanoCores, -9);
}

/** Bytes as a BinarySI quantity (apimachinery: below 1024 it is written as a decimal quantity). */
export function memoryQuantity(bytes: number): string {
  let n = Math.round(bytes);
  if (n > -1024 && n < 1024) return decimalQuantity(n, 0);
  let i = 0;
  while (n % 1024 === 0 && i < BINARY_SUFFIX.length - 1) {
    n /= 1024;
    i++;
  }
  return String(n) + BINARY_SUFFIX[i];
}

/** Go's time.Duration.String for a non-negative duration in nanoseconds. */
export function goDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trimFraction(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trimFraction(ns / 1e6)}ms`;
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = (ns % 60e9) / 1e9;
  const sec = `${trimFraction(s)}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

function trimFraction(x: number): string {
  return x.toFixed(9).replace(/\.?0+$/, '');
}
