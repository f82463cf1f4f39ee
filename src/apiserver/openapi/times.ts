/**
 * metav1.Time and metav1.MicroTime as upstream decodes and re-encodes them. A Time is parsed with
 * Go's time.Parse(RFC3339) — fractional seconds and offsets accepted — and stored as UTC to the
 * second ("2026-01-02T03:04:05Z"); a MicroTime must have exactly six fractional digits
 * (layout "2006-01-02T15:04:05.000000Z07:00") and is stored as UTC to the microsecond. So a
 * condition written with a JavaScript Date ("…:05.123Z") reads back as "…:05Z", and a Lease
 * renewTime with milliseconds is refused with Go's parse error, as a real API server does.
 */
import { resolveSchema, schemaForKind } from './schemas.js';

type Schema = Record<string, any>;

const REF_PREFIX = '#/components/schemas/';
const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
const MICRO_TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime';
const RFC3339 = '2006-01-02T15:04:05Z07:00';
const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

/** A time that does not parse: the message is Go's ParseError text. */
export class TimeParseError extends Error {}

function refName(s: Schema | undefined): string | undefined {
  const ref = s?.allOf?.length === 1 && !s.properties ? s.allOf[0].$ref : s?.$ref;
  return typeof ref === 'string' && ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

const isDigit = (s: string, i: number) => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;
const q = (s: string) => JSON.stringify(s);

/** Go's getnum: one or two digits (exactly two when fixed). */
function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return fixed ? undefined : [s.charCodeAt(0) - 48, s.slice(1)];
  return [Number(s.slice(0, 2)), s.slice(2)];
}

/** Go's parseNanoseconds over `value[0:n]` (a '.' or ',' then digits). */
function nanos(value: string, n: number): number | undefined {
  if (value[0] !== '.' && value[0] !== ',') return undefined;
  const digits = value.slice(1, Math.min(n, 10));
  if (!/^\d+$/.test(digits)) return undefined;
  return Number(digits.padEnd(9, '0'));
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Go's time.Parse with the RFC3339 layout (micro = false) or metav1's RFC3339Micro one, element by
 * element as Go walks the layout, so that failures carry Go's message.
 */
export function parseGoTime(value: string, micro: boolean): { epochSeconds: number; nanos: number } {
  const layout = micro ? RFC3339_MICRO : RFC3339;
  const bad = (rest: string, elem: string) => new TimeParseError(`parsing time ${q(value)} as ${q(layout)}: cannot parse ${q(rest)} as ${q(elem)}`);
  const range = (what: string) => new TimeParseError(`parsing time ${q(value)}: ${what} out of range`);
  let rest = value;
  const literal = (lit: string) => {
    if (!rest.startsWith(lit)) throw bad(rest, lit);
    rest = rest.slice(lit.length);
  };
  const num = (elem: string, fixed: boolean, max: number | undefined, what: string, min = 0): number => {
    const r = getnum(rest, fixed);
    if (!r) throw bad(rest, elem);
    if (max !== undefined && (r[0] < min || r[0] > max)) throw range(what);
    rest = r[1];
    return r[0];
  };
  if (rest.length < 4 || !isDigit(rest, 0) || !/^\d{4}$/.test(rest.slice(0, 4))) throw bad(rest, '2006');
  const year = Number(rest.slice(0, 4));
  rest = rest.slice(4);
  literal('-');
  const month = num('01', true, 12, 'month', 1);
  literal('-');
  const day = num('02', true, undefined, 'day');
  literal('T');
  const hour = num('15', false, 23, 'hour');
  literal(':');
  const minute = num('04', true, 59, 'minute');
  literal(':');
  const second = num('05', true, 59, 'second');
  let ns = 0;
  if (micro) {
    // stdFracSecond0: exactly the layout's number of digits.
    if (rest.length < 7) throw bad(rest, '.000000');
    const n = nanos(rest, 7);
    if (n === undefined) throw bad(rest, '.000000');
    ns = n;
    rest = rest.slice(7);
  } else if (rest.length >= 2 && (rest[0] === '.' || rest[0] === ',') && isDigit(rest, 1)) {
    // A fraction the layout does not name is accepted when parsing, whatever its length.
    let n = 2;
    while (isDigit(rest, n)) n++;
    ns = nanos(rest, n)!;
    rest = rest.slice(n);
  }
  let offset = 0;
  if (rest[0] === 'Z') rest = rest.slice(1);
  else {
    if (rest.length < 6 || rest[3] !== ':') throw bad(rest, 'Z07:00');
    const sign = rest[0];
    const hh = getnum(rest.slice(1, 3), true);
    const mm = getnum(rest.slice(4, 6), true);
    if (!hh || !mm || (sign !== '+' && sign !== '-')) throw bad(rest, 'Z07:00');
    if (hh[0] > 24) throw range('time zone offset hour');
    if (mm[0] > 60) throw range('time zone offset minute');
    offset = (sign === '-' ? -1 : 1) * (hh[0] * 3600 + mm[0] * 60);
    rest = rest.slice(6);
  }
  if (rest.length) throw new TimeParseError(`parsing time ${q(value)}: extra text: ${q(rest)}`);
  if (day < 1 || day > daysIn(month, year)) throw range('day');
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return { epochSeconds: d.getTime() / 1000 - offset, nanos: ns };
}

/** Seconds from 0001-01-01T00:00:00Z, Go's zero Time, which metav1 encodes as null. */
const ZERO_EPOCH = (() => {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  return d.getTime() / 1000;
})();

/** The stored form of a Time (micro = false) or MicroTime string; null for Go's zero time. */
export function canonicalTime(value: string, micro: boolean): string | null {
  const t = parseGoTime(value, micro);
  if (t.epochSeconds === ZERO_EPOCH && t.nanos === 0) return null;
  const iso = new Date(t.epochSeconds * 1000).toISOString();
  const base = iso.slice(0, iso.indexOf('.'));
  return micro ? `${base}.${String(Math.floor(t.nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

/** Whether values of a schema can hold a Time or MicroTime (memoized per resolved schema). */
const holds = new WeakMap<Schema, boolean>();
function holdsTime(prop: Schema | undefined): boolean {
  const ref = refName(prop);
  if (ref === TIME || ref === MICRO_TIME) return true;
  const s = resolveSchema(prop);
  if (!s || s['x-kubernetes-preserve-unknown-fields']) return false;
  let h = holds.get(s);
  if (h !== undefined) return h;
  holds.set(s, false); // recursive schemas (JSONSchemaProps) hold no times
  h = false;
  if (s.properties) for (const k in s.properties) if ((h = holdsTime(s.properties[k]))) break;
  if (!h && s.items) h = holdsTime(s.items);
  if (!h && typeof s.additionalProperties === 'object') h = holdsTime(s.additionalProperties);
  holds.set(s, h);
  return h;
}

/** `value` with its times in stored form; parts without changes are shared, not copied. */
function normalize(prop: Schema | undefined, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const ref = refName(prop);
  if (ref === TIME || ref === MICRO_TIME) return typeof value === 'string' ? canonicalTime(value, ref === MICRO_TIME) : value;
  if (!holdsTime(prop)) return value;
  const s = resolveSchema(prop)!;
  if (Array.isArray(value)) {
    if (!s.items) return value;
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = normalize(s.items, value[i]);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  if (typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  const set = (k: string, sub: Schema) => {
    const v = normalize(sub, obj[k]);
    if (v !== obj[k]) (out ??= { ...obj })[k] = v;
  };
  if (s.properties) {
    for (const k in obj) if (Object.prototype.hasOwnProperty.call(s.properties, k)) set(k, s.properties[k]);
  } else if (typeof s.additionalProperties === 'object') {
    for (const k in obj) set(k, s.additionalProperties);
  }
  return out ?? value;
}

/**
 * `obj` (a built-in kind) with every Time and MicroTime in the form upstream stores; the same
 * object when nothing changes. Throws TimeParseError, with Go's message, for a time upstream's
 * decoder refuses.
 */
export function normalizeTimes<T>(group: string, version: string, kind: string, obj: T): T {
  const k = schemaForKind(group, version, kind);
  if (!k) return obj;
  return normalize(k.schema, obj) as T;
}
