/**
 * resource.Quantity: parsing, exact comparison and canonical printing
 * (k8s.io/apimachinery/pkg/api/resource/quantity.go). Values are kept exact as
 * `value × 10^scale` with a BigInt value, rounded up to nano like upstream.
 */
import { memoByText } from '../../util/memo.js';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  value: bigint;
  scale: number;
  format: QuantityFormat;
}

export const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

const DEC_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BIN_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DEC_BY_EXP = new Map(Object.entries(DEC_SUFFIX).map(([k, v]) => [v, k]));
const BIN_NAMES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/** Divides rounding away from zero (inf.RoundUp / negativeScaleInt64). */
function divAway(v: bigint, d: bigint): bigint {
  const q = v / d;
  return v % d === 0n ? q : v < 0n ? q - 1n : q + 1n;
}

interface Parsed {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** parseQuantityString: sign, digits, optional fraction, then a suffix. */
function scan(str: string): Parsed | 'format' {
  let pos = 0;
  const end = str.length;
  let positive = true;
  if (str[0] === '-') { positive = false; pos++; } else if (str[0] === '+') pos++;
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && str[i] >= '0' && str[i] <= '9') i++;
  let num = str.slice(pos, i);
  if (i >= end) return { positive, num, denom: '', suffix: '' };
  pos = i;
  if (num.length === 0) num = '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    let j = pos;
    while (j < end && str[j] >= '0' && str[j] <= '9') j++;
    denom = str.slice(pos, j);
    if (j >= end) return { positive, num, denom, suffix: '' };
    pos = j;
  }
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos])) pos++;
  if (pos >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (pos < end && str[pos] >= '0' && str[pos] <= '9') pos++;
  if (pos >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  return 'format';
}

// Objects repeat the same few quantities ("100m", "64Mi") on every write, and the bigint parse is
// not cheap: results are kept (frozen, as callers share them).
const parsedText = memoByText((input: string): Quantity | string => {
  const q = parseText(input);
  return typeof q === 'string' ? q : Object.freeze(q);
});

/** Parses a quantity; returns the upstream error text when it is not one. */
export function parseQuantityExact(input: unknown): Quantity | string {
  if (typeof input === 'number') input = Number.isFinite(input) ? String(input) : '';
  if (typeof input !== 'string') return QUANTITY_FORMAT_ERROR;
  return parsedText(input);
}

function parseText(input: string): Quantity | string {
  const str = input.trim();
  if (str.length === 0) return QUANTITY_FORMAT_ERROR;
  const p = scan(str);
  if (p === 'format') return QUANTITY_FORMAT_ERROR;

  let base: 2 | 10;
  let exponent: number;
  let format: QuantityFormat;
  if (p.suffix in DEC_SUFFIX) { base = 10; exponent = DEC_SUFFIX[p.suffix]; format = 'DecimalSI'; }
  else if (p.suffix in BIN_SUFFIX) { base = 2; exponent = BIN_SUFFIX[p.suffix]; format = 'BinarySI'; }
  else if (p.suffix.length > 1 && (p.suffix[0] === 'e' || p.suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(p.suffix.slice(1))) {
    base = 10; exponent = Number(p.suffix.slice(1)); format = 'DecimalExponent';
  } else return QUANTITY_SUFFIX_ERROR;

  let value = BigInt(p.num + p.denom);
  let scale = -p.denom.length;
  if (base === 10) scale += exponent;
  else value *= 2n ** BigInt(exponent);
  if (!p.positive) value = -value;
  // Anything finer than a nano is rounded up to it, so a tiny request still gets something.
  if (scale < -9) {
    value = divAway(value, pow10(-9 - scale));
    scale = -9;
  }
  if (format === 'BinarySI' && value !== 0n && compareQ({ value, scale, format }, { value: 1n, scale: 0, format }) < 0 && value > 0n && scale < 0) {
    format = 'DecimalSI';
  }
  return { value, scale, format };
}

/** The numeric value of a quantity, or undefined when the text is not a quantity. */
export function parseQuantity(input: unknown): number | undefined {
  const q = parseQuantityExact(input);
  if (typeof q === 'string') return undefined;
  return Number(q.value) * Math.pow(10, q.scale);
}

/** The reason text when `input` is not a valid quantity, else undefined. */
export function quantityError(input: unknown): string | undefined {
  const q = parseQuantityExact(input);
  return typeof q === 'string' ? q : undefined;
}

function compareQ(a: Quantity, b: Quantity): number {
  const s = Math.min(a.scale, b.scale);
  const av = a.value * pow10(a.scale - s);
  const bv = b.value * pow10(b.scale - s);
  return av < bv ? -1 : av > bv ? 1 : 0;
}

/** -1, 0 or 1, comparing exactly. */
export const compareQuantity = compareQ;

export const isZeroQuantity = (q: Quantity): boolean => q.value === 0n;
export const isNegativeQuantity = (q: Quantity): boolean => q.value < 0n;

/** Quantity.RoundUp(scale): keeps at most `scale` precision, rounding away from zero. */
export function roundUpQuantity(q: Quantity, scale: number): Quantity {
  if (q.scale >= scale) return q;
  return { value: divAway(q.value, pow10(scale - q.scale)), scale, format: q.format };
}

/** Quantity.MilliValue (rounded away from zero). */
export function milliValue(q: Quantity): bigint {
  const s = q.scale + 3;
  return s >= 0 ? q.value * pow10(s) : divAway(q.value, pow10(-s));
}

/** Quantity.String(): the canonical form ("500m", "1Gi", "1536Mi", "1e3"…). */
export function formatQuantity(q: Quantity): string {
  if (q.value === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    const small = compareQ(q, { value: -1024n, scale: 0, format }) > 0 && compareQ(q, { value: 1024n, scale: 0, format }) < 0;
    const integral = q.scale >= 0 || q.value % pow10(-q.scale) === 0n;
    if (small || !integral) format = 'DecimalSI';
    else {
      let v = q.scale >= 0 ? q.value * pow10(q.scale) : q.value / pow10(-q.scale);
      let times = 0;
      while (times < 6 && abs(v) >= 1024n && v % 1024n === 0n) { v /= 1024n; times++; }
      return v.toString() + BIN_NAMES[times];
    }
  }
  let v = q.value;
  let exp = q.scale;
  while (abs(v) >= 10n && v % 10n === 0n) { v /= 10n; exp++; }
  const r = exp % 3;
  if (r === 1 || r === -2) { v *= 10n; exp -= 1; }
  else if (r === 2 || r === -1) { v *= 100n; exp -= 2; }
  let suffix: string;
  if (format === 'DecimalExponent') suffix = exp === 0 ? '' : `e${exp}`;
  else suffix = DEC_BY_EXP.get(exp) ?? `e${exp}`;
  return v.toString() + suffix;
}

/** Canonical text of a quantity, or undefined when it does not parse. */
export function canonicalQuantity(input: unknown): string | undefined {
  const q = parseQuantityExact(input);
  if (typeof q === 'string') return undefined;
  let text = formatted.get(q);
  if (text === undefined) formatted.set(q, (text = formatQuantity(q)));
  return text;
}

/** Canonical texts of the memoized (frozen, so unchanging) parse results. */
const formatted = new WeakMap<Quantity, string>();

/** Go's `%#v` of a resource.Quantity value (as it appears in "must be an integer" messages). */
export function goQuantityText(q: Quantity): string {
  return `resource.Quantity{i:resource.int64Amount{value:${q.value}, scale:${q.scale}}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"", Format:${JSON.stringify(q.format)}}`;
}
