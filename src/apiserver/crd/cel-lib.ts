/**
 * The Kubernetes CEL libraries that CRD validation rules use and @bufbuild/cel lacks: lists
 * (isSorted, sum, min, max, indexOf, lastIndexOf) and regex (find, findAll), plus the strings
 * extension @bufbuild/cel ships. Regexes run on JavaScript's engine (close to RE2 for the patterns
 * rules use; RE2-only syntax fails to compile and is reported as an evaluation error).
 */
import { celMethod, CelScalar, isCelList, isCelMap, listType, type CelFunc, type CelList, type CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { celFunc } from '@bufbuild/cel';
import { kubeTypeFuncs } from './cel-kube-types.js';

const LIST = listType(CelScalar.DYN);

/** CEL ordering of comparable scalars (int, uint, double, string, bool); throws when not comparable. */
function compare(a: CelValue, b: CelValue): number {
  const num = (v: CelValue): number | bigint | undefined => (typeof v === 'bigint' || typeof v === 'number' ? v : undefined);
  const na = num(a);
  const nb = num(b);
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error('no such overload');
}

function equal(a: CelValue, b: CelValue): boolean {
  if (typeof a === 'bigint' || typeof a === 'number') return (typeof b === 'bigint' || typeof b === 'number') && a == b;
  if (typeof a !== 'object' || a === null) return a === b;
  return JSON.stringify(plain(a)) === JSON.stringify(plain(b));
}

/** A JSON-comparable image of a CEL value (for list indexOf on lists/maps). */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (isCelList(v)) return [...v].map(plain);
  if (v && typeof v === 'object' && typeof (v as any).entries === 'function' && typeof (v as any).get === 'function') {
    return [...(v as any).entries()].map(([k, x]: [unknown, unknown]) => [plain(k), plain(x)]).sort((p: any, q: any) => (JSON.stringify(p[0]) < JSON.stringify(q[0]) ? -1 : 1));
  }
  return v;
}

function extreme(list: CelList, sign: number): CelValue {
  if (list.size === 0) throw new Error('min called on empty list');
  let best = list.get(0) as CelValue;
  for (const v of list) if (compare(v, best) * sign > 0) best = v;
  return best;
}

function sum(list: CelList): CelValue {
  let acc: bigint | number | undefined;
  for (const v of list) {
    if (typeof v !== 'bigint' && typeof v !== 'number') throw new Error('no such overload');
    acc = acc === undefined ? v : typeof acc === 'bigint' && typeof v === 'bigint' ? acc + v : Number(acc) + Number(v);
  }
  return acc ?? 0n;
}

/** An RE2 pattern as a JavaScript RegExp; RE2's leading flag group ((?i), (?s), (?m)) becomes flags. */
function regex(pattern: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(pattern);
  return m ? new RegExp(pattern.slice(m[0].length), `gu${m[1]}`) : new RegExp(pattern, 'gu');
}

export const kubeListFuncs: CelFunc[] = [
  celMethod('isSorted', LIST, [], CelScalar.BOOL, function () {
    for (let i = 1; i < this.size; i++) if (compare(this.get(i - 1)!, this.get(i)!) > 0) return false;
    return true;
  }),
  celMethod('sum', LIST, [], CelScalar.DYN, function () { return sum(this) as any; }),
  celMethod('min', LIST, [], CelScalar.DYN, function () { return extreme(this, -1) as any; }),
  celMethod('max', LIST, [], CelScalar.DYN, function () { return extreme(this, 1) as any; }),
  celMethod('indexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (x) {
    let i = 0;
    for (const v of this) {
      if (equal(v, x)) return BigInt(i);
      i++;
    }
    return -1n;
  }),
  celMethod('lastIndexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (x) {
    for (let i = this.size - 1; i >= 0; i--) if (equal(this.get(i)!, x)) return BigInt(i);
    return -1n;
  }),
];

export const kubeRegexFuncs: CelFunc[] = [
  celMethod('find', CelScalar.STRING, [CelScalar.STRING], CelScalar.STRING, function (p) {
    return regex(p).exec(this)?.[0] ?? '';
  }),
  celMethod('findAll', CelScalar.STRING, [CelScalar.STRING], listType(CelScalar.STRING), function (p) {
    return [...this.matchAll(regex(p))].map((m) => m[0]);
  }),
  celMethod('findAll', CelScalar.STRING, [CelScalar.STRING, CelScalar.INT], listType(CelScalar.STRING), function (p, n) {
    const all = [...this.matchAll(regex(p))].map((m) => m[0]);
    return n < 0n ? all : all.slice(0, Number(n));
  }),
];

/** strings.quote and reverse (cel-go strings ext v2+, which Kubernetes uses) that @bufbuild/cel lacks. */
export const kubeStringFuncs: CelFunc[] = [
  celFunc('strings.quote', [CelScalar.STRING], CelScalar.STRING, (s) => JSON.stringify(s)),
  celMethod('reverse', CelScalar.STRING, [], CelScalar.STRING, function () { return [...this].reverse().join(''); }),
];

/** cel-go's sets extension: sets.contains, sets.equivalent, sets.intersects. */
export const kubeSetFuncs: CelFunc[] = [
  celFunc('sets.contains', [LIST, LIST], CelScalar.BOOL, (a, b) => [...b].every((x) => [...a].some((y) => equal(x, y)))),
  celFunc('sets.equivalent', [LIST, LIST], CelScalar.BOOL, (a, b) => [...b].every((x) => [...a].some((y) => equal(x, y))) && [...a].every((x) => [...b].some((y) => equal(x, y)))),
  celFunc('sets.intersects', [LIST, LIST], CelScalar.BOOL, (a, b) => [...b].some((x) => [...a].some((y) => equal(x, y)))),
];

/**
 * Optional values (optional.of/none, hasValue, value, orValue) for rules with optionalOldSelf,
 * where oldSelf is optional. @bufbuild/cel has no optional type: a one-entry tagged map stands in.
 * The `.?` / `[?` syntax is not parsed.
 */
export const optionalSome = (v: unknown) => new Map([['@some', v]]);
export const OPTIONAL_NONE = new Map([['@none', true]]);
const someOf = (v: CelValue): { ok: boolean; v?: CelValue } => {
  if (isCelMap(v)) {
    if (v.has('@some')) return { ok: true, v: v.get('@some') };
    if (v.has('@none')) return { ok: false };
  }
  throw new Error('no such overload');
};
export const kubeOptionalFuncs: CelFunc[] = [
  celFunc('optional.of', [CelScalar.DYN], CelScalar.DYN, (x) => optionalSome(x) as any),
  celFunc('optional.none', [], CelScalar.DYN, () => OPTIONAL_NONE as any),
  celMethod('hasValue', CelScalar.DYN, [], CelScalar.BOOL, function () { return someOf(this).ok; }),
  celMethod('value', CelScalar.DYN, [], CelScalar.DYN, function () {
    const o = someOf(this);
    if (!o.ok) throw new Error('optional.none() dereference');
    return o.v as any;
  }),
  celMethod('orValue', CelScalar.DYN, [CelScalar.DYN], CelScalar.DYN, function (d) { const o = someOf(this); return (o.ok ? o.v : d) as any; }),
];

/** Every extension function CRD rules may call here (on top of CEL's standard library). */
export const kubeCelFuncs: CelFunc[] = [...strings, ...kubeStringFuncs, ...kubeListFuncs, ...kubeRegexFuncs, ...kubeSetFuncs, ...kubeTypeFuncs, ...kubeOptionalFuncs];
