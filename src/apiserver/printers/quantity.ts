/**
 * resource.Quantity's canonical String(), for the resource quota printer: "1024Mi" prints as
 * "1Gi", "1000m" as "1", "0.5" as "500m". Values are held exactly as nano-units (BigInt),
 * the finest precision a Quantity keeps.
 */

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

interface Parsed {
  /** value × 10^9, rounded away from zero like upstream. */
  nano: bigint;
  format: Format;
}

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_EXPONENT = new Map(Object.entries(BINARY_SUFFIXES).map(([s, e]) => [e, s]));

const NANO = 10n ** 9n;

/** ceil(|num| / den) with the sign of num: rounding away from zero. */
function divAwayFromZero(num: bigint, den: bigint): bigint {
  const neg = num < 0n;
  const a = neg ? -num : num;
  const q = (a + den - 1n) / den;
  return neg ? -q : q;
}

/** resource.ParseQuantity, or undefined if the string is not a quantity. */
export function parseQuantity(s: string): Parsed | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?([eEinumkKMGTP]*[-+]?\d*)$/.exec(s);
  if (!m) return undefined;
  const [, sign, whole = '', frac = '', suffix = ''] = m;
  if (whole === '' && frac === '') return undefined;
  let num = BigInt((whole || '0') + frac) * (sign === '-' ? -1n : 1n);
  let den = 10n ** BigInt(frac.length);
  let format: Format;
  if (suffix in BINARY_SUFFIXES) {
    format = 'BinarySI';
    num *= 2n ** BigInt(BINARY_SUFFIXES[suffix]!);
  } else if (suffix in DECIMAL_SUFFIXES) {
    format = 'DecimalSI';
    const e = DECIMAL_SUFFIXES[suffix]!;
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  } else {
    const em = /^[eE]([-+]?\d+)$/.exec(suffix);
    if (!em) return undefined;
    format = 'DecimalExponent';
    const e = Number(em[1]);
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  }
  return { nano: divAwayFromZero(num * NANO, den), format };
}

/** The canonical string form of a parsed quantity (CanonicalizeBytes). */
export function canonicalQuantity(q: Parsed): string {
  if (q.nano === 0n) return '0';
  const neg = q.nano < 0n;
  const abs = neg ? -q.nano : q.nano;
  let format = q.format;
  // Small or fractional binary values read better (and exactly) in decimal.
  if (format === 'BinarySI' && (abs < 1024n * NANO || abs % NANO !== 0n)) format = 'DecimalSI';

  let out: string;
  if (format === 'BinarySI') {
    let v = abs / NANO;
    let exp = 0;
    while (v % 1024n === 0n) {
      v /= 1024n;
      exp += 10;
    }
    out = v.toString() + (BINARY_BY_EXPONENT.get(exp) ?? '');
  } else {
    // Strip factors of ten, then step the exponent down to a multiple of three.
    let v = abs;
    let exp = -9;
    while (v % 10n === 0n) {
      v /= 10n;
      exp++;
    }
    const r = ((exp % 3) + 3) % 3;
    v *= 10n ** BigInt(r);
    exp -= r;
    let suffix: string;
    if (format === 'DecimalSI' && DECIMAL_BY_EXPONENT.has(exp)) suffix = DECIMAL_BY_EXPONENT.get(exp)!;
    else suffix = exp === 0 ? '' : `e${exp}`;
    out = v.toString() + suffix;
  }
  return neg ? '-' + out : out;
}

/** Quantity.String() for a JSON quantity; the zero Quantity ("0") when absent, raw text if unparseable. */
export function formatQuantity(v: unknown): string {
  if (v === undefined || v === null) return '0';
  const s = typeof v === 'number' ? String(v) : String(v).trim();
  const q = parseQuantity(s);
  return q ? canonicalQuantity(q) : s;
}
