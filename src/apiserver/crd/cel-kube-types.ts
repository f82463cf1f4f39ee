/**
 * Kubernetes' CEL value libraries for URLs, IPs, CIDRs and quantities (isURL/url, isIP/ip,
 * isCIDR/cidr, isQuantity/quantity and their methods). @bufbuild/cel has no way to declare new
 * opaque types, so a value is a one-entry map tagged by its kind ({'@ip': '10.0.0.1'}); methods
 * check the tag. Equality of canonical forms works; `type(ip(x))` is a map here.
 */
import { celFunc, celMethod, CelScalar, isCelMap, listType, mapType, type CelFunc, type CelValue } from '@bufbuild/cel';

const { STRING, INT, BOOL, DYN, DOUBLE } = CelScalar;

function tagged(kind: string, v: CelValue): string {
  if (isCelMap(v)) {
    const s = v.get(kind);
    if (typeof s === 'string') return s;
  }
  throw new Error('no such overload');
}
const wrap = (kind: string, s: string) => new Map([[kind, s]]);

// ---------------------------------------------------------------------------------------------
// URLs (Go's url.ParseRequestURI: an absolute URI or an absolute path)

function parseURL(s: string): URL | undefined {
  if (!s || /\s/.test(s)) return undefined;
  if (s.startsWith('/')) return new URL(s, 'path-only:/');
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s)) return undefined;
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

function url(v: CelValue): URL {
  return parseURL(tagged('@url', v))!;
}

/** Host as Go's URL.Host (port kept, IPv6 bracketed), which WHATWG drops when it is the scheme's default. */
function rawHost(s: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(s);
  return m ? m[1]! : '';
}

const urlFuncs: CelFunc[] = [
  celFunc('isURL', [STRING], BOOL, (s) => parseURL(s) !== undefined),
  celFunc('url', [STRING], DYN, (s) => {
    if (!parseURL(s)) throw new Error(`URL parse error during conversion from string: parse ${JSON.stringify(s)}: invalid URI for request`);
    return wrap('@url', s);
  }),
  celMethod('getScheme', DYN, [], STRING, function () { const u = url(this); return u.protocol === 'path-only:' ? '' : u.protocol.slice(0, -1); }),
  celMethod('getHost', DYN, [], STRING, function () { return rawHost(tagged('@url', this)); }),
  celMethod('getHostname', DYN, [], STRING, function () { return rawHost(tagged('@url', this)).replace(/:\d*$/, '').replace(/^\[(.*)\]$/, '$1'); }),
  celMethod('getPort', DYN, [], STRING, function () { return /:(\d*)$/.exec(rawHost(tagged('@url', this)).replace(/^\[.*\]/, ''))?.[1] ?? ''; }),
  celMethod('getEscapedPath', DYN, [], STRING, function () { return url(this).pathname; }),
  celMethod('getQuery', DYN, [], mapType(STRING, listType(STRING)), function () {
    const out = new Map<string, string[]>();
    for (const [k, v] of url(this).searchParams) out.set(k, [...(out.get(k) ?? []), v]);
    return out;
  }),
];

// ---------------------------------------------------------------------------------------------
// IPs and CIDRs (Go's netip, as Kubernetes: no zones, no IPv4-mapped IPv6)

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out.push(Number(p));
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  if (s.includes('%')) return undefined;
  let tail: number[] = [];
  let body = s;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = parseIPv4(v4[1]!);
    if (!b) return undefined;
    tail = b;
    body = s.slice(0, -v4[1]!.length);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h ? h.split(':') : []);
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const need = 8 - tail.length / 2;
  const words = [...head, ...(halves.length === 2 ? Array(Math.max(0, need - head.length - rest.length)).fill('0') : []), ...rest];
  if (words.length !== need || (halves.length === 2 && head.length + rest.length >= need)) return undefined;
  const out: number[] = [];
  for (const w of words) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
    const n = parseInt(w, 16);
    out.push(n >> 8, n & 255);
  }
  return [...out, ...tail];
}

/** The bytes of an IP (4 or 16), or undefined; IPv4-mapped IPv6 is refused as Kubernetes does. */
function parseIP(s: string): number[] | undefined {
  if (s.includes(':')) {
    const b = parseIPv6(s);
    if (b && b.slice(0, 10).every((x) => x === 0) && b[10] === 255 && b[11] === 255) return undefined;
    return b;
  }
  return parseIPv4(s);
}

function formatIP(b: number[]): string {
  if (b.length === 4) return b.join('.');
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[i]! << 8) | b[i + 1]!);
  // Longest run of zero words (length >= 2) becomes '::' (RFC 5952).
  let best = -1;
  let len = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > len && j - i >= 2) { best = i; len = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(w) : `${hex(w.slice(0, best))}::${hex(w.slice(best + len))}`;
}

function parseCIDR(s: string): { ip: number[]; bits: number } | undefined {
  const m = /^([^/]+)\/(0|[1-9][0-9]{0,2})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIP(m[1]!);
  const bits = Number(m[2]);
  if (!ip || bits > ip.length * 8) return undefined;
  return { ip, bits };
}

function masked(ip: number[], bits: number): number[] {
  return ip.map((x, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return x & ((0xff << (8 - keep)) & 0xff);
  });
}

const ipOf = (v: CelValue): number[] => parseIP(tagged('@ip', v))!;
const cidrOf = (v: CelValue) => parseCIDR(tagged('@cidr', v))!;
const contains = (c: { ip: number[]; bits: number }, ip: number[]) => ip.length === c.ip.length && masked(ip, c.bits).every((x, i) => x === masked(c.ip, c.bits)[i]);

const ipFuncs: CelFunc[] = [
  celFunc('isIP', [STRING], BOOL, (s) => parseIP(s) !== undefined),
  celFunc('ip', [STRING], DYN, (s) => {
    const b = parseIP(s);
    if (!b) throw new Error(`IP Address ${JSON.stringify(s)} parse error during conversion from string: ParseAddr(${JSON.stringify(s)}): unable to parse IP`);
    return wrap('@ip', formatIP(b));
  }),
  celFunc('ip.isCanonical', [STRING], BOOL, (s) => {
    const b = parseIP(s);
    if (!b) throw new Error(`IP Address ${JSON.stringify(s)} parse error during conversion from string`);
    return formatIP(b) === s;
  }),
  celMethod('family', DYN, [], INT, function () { return ipOf(this).length === 4 ? 4n : 6n; }),
  celMethod('isUnspecified', DYN, [], BOOL, function () { return ipOf(this).every((x) => x === 0); }),
  celMethod('isLoopback', DYN, [], BOOL, function () { const b = ipOf(this); return b.length === 4 ? b[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1; }),
  celMethod('isLinkLocalMulticast', DYN, [], BOOL, function () { const b = ipOf(this); return b.length === 4 ? b[0] === 224 && b[1] === 0 && b[2] === 0 : b[0] === 0xff && (b[1]! & 0x0f) === 2; }),
  celMethod('isLinkLocalUnicast', DYN, [], BOOL, function () { const b = ipOf(this); return b.length === 4 ? b[0] === 169 && b[1] === 254 : b[0] === 0xfe && (b[1]! & 0xc0) === 0x80; }),
  celMethod('isGlobalUnicast', DYN, [], BOOL, function () {
    const b = ipOf(this);
    if (b.length === 4) return !(b[0] === 0 || b[0] === 127 || b[0]! >= 224 || (b[0] === 169 && b[1] === 254)) || false;
    return !(b.every((x) => x === 0) || (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) || b[0] === 0xff || (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80));
  }),
  celFunc('isCIDR', [STRING], BOOL, (s) => parseCIDR(s) !== undefined),
  celFunc('cidr', [STRING], DYN, (s) => {
    const c = parseCIDR(s);
    if (!c) throw new Error(`network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix(${JSON.stringify(s)}): bad prefix`);
    return wrap('@cidr', `${formatIP(c.ip)}/${c.bits}`);
  }),
  celMethod('containsIP', DYN, [DYN], BOOL, function (x) {
    const ip = typeof x === 'string' ? parseIP(x) : ipOf(x);
    if (!ip) throw new Error(`IP Address ${JSON.stringify(x)} parse error during conversion from string`);
    return contains(cidrOf(this), ip);
  }),
  celMethod('containsCIDR', DYN, [DYN], BOOL, function (x) {
    const o = typeof x === 'string' ? parseCIDR(x) : cidrOf(x);
    if (!o) throw new Error(`network address parse error during conversion from string`);
    const c = cidrOf(this);
    return o.bits >= c.bits && contains(c, o.ip);
  }),
  celMethod('ip', DYN, [], DYN, function () { return wrap('@ip', formatIP(cidrOf(this).ip)); }),
  celMethod('masked', DYN, [], DYN, function () { const c = cidrOf(this); return wrap('@cidr', `${formatIP(masked(c.ip, c.bits))}/${c.bits}`); }),
  celMethod('prefixLength', DYN, [], INT, function () { return BigInt(cidrOf(this).bits); }),
];

// ---------------------------------------------------------------------------------------------
// Quantities (resource.Quantity), as exact rationals

interface Rat { n: bigint; d: bigint }
const BIN: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DEC: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

function parseQuantity(s: string): Rat | undefined {
  const m = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/.exec(s);
  if (!m) return undefined;
  const [whole, frac = ''] = m[2]!.split('.');
  let n = BigInt((whole || '0') + frac) * (m[1] === '-' ? -1n : 1n);
  let d = 10n ** BigInt(frac.length);
  let exp = 0;
  if (m[3] && m[3] in BIN) n *= 2n ** BigInt(BIN[m[3]]!);
  else if (m[3]) exp = DEC[m[3]]!;
  else if (m[4]) exp = Number(m[4]);
  if (Math.abs(exp) > 100) return undefined;
  if (exp >= 0) n *= 10n ** BigInt(exp);
  else d *= 10n ** BigInt(-exp);
  return { n, d };
}

const qOf = (v: CelValue): Rat => parseQuantity(tagged('@quantity', v))!;
const cmp = (a: Rat, b: Rat): number => { const l = a.n * b.d; const r = b.n * a.d; return l < r ? -1 : l > r ? 1 : 0; };
const qArg = (x: CelValue): Rat => (typeof x === 'bigint' ? { n: x, d: 1n } : qOf(x));
/** A rational as a quantity string (exact decimal when possible, else its float). */
function qString(r: Rat): string {
  let d = r.d;
  let twos = 0;
  let fives = 0;
  while (d % 2n === 0n) { d /= 2n; twos++; }
  while (d % 5n === 0n) { d /= 5n; fives++; }
  if (d !== 1n) return String(Number(r.n) / Number(r.d));
  const scale = Math.max(twos, fives);
  const n = (r.n * 10n ** BigInt(scale)) / r.d;
  return scale ? `${n}e-${scale}` : String(n);
}

const quantityFuncs: CelFunc[] = [
  celFunc('isQuantity', [STRING], BOOL, (s) => parseQuantity(s) !== undefined),
  celFunc('quantity', [STRING], DYN, (s) => {
    if (!parseQuantity(s)) throw new Error('quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'');
    return wrap('@quantity', s);
  }),
  celMethod('sign', DYN, [], INT, function () { const q = qOf(this); return q.n > 0n ? 1n : q.n < 0n ? -1n : 0n; }),
  celMethod('isInteger', DYN, [], BOOL, function () { const q = qOf(this); return q.n % q.d === 0n && q.n / q.d <= 2n ** 63n - 1n && q.n / q.d >= -(2n ** 63n); }),
  celMethod('asInteger', DYN, [], INT, function () {
    const q = qOf(this);
    if (q.n % q.d !== 0n) throw new Error('cannot convert value to integer');
    return q.n / q.d;
  }),
  celMethod('asApproximateFloat', DYN, [], DOUBLE, function () { const q = qOf(this); return Number(q.n) / Number(q.d); }),
  celMethod('isLessThan', DYN, [DYN], BOOL, function (o) { return cmp(qOf(this), qOf(o)) < 0; }),
  celMethod('isGreaterThan', DYN, [DYN], BOOL, function (o) { return cmp(qOf(this), qOf(o)) > 0; }),
  celMethod('compareTo', DYN, [DYN], INT, function (o) { return BigInt(cmp(qOf(this), qOf(o))); }),
  celMethod('add', DYN, [DYN], DYN, function (o) { const a = qOf(this); const b = qArg(o); return wrap('@quantity', qString({ n: a.n * b.d + b.n * a.d, d: a.d * b.d })); }),
  celMethod('sub', DYN, [DYN], DYN, function (o) { const a = qOf(this); const b = qArg(o); return wrap('@quantity', qString({ n: a.n * b.d - b.n * a.d, d: a.d * b.d })); }),
];

export const kubeTypeFuncs: CelFunc[] = [...urlFuncs, ...ipFuncs, ...quantityFuncs];
