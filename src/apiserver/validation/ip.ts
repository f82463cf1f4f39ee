/**
 * IP and CIDR parsing with Go's semantics (k8s.io/utils/net ParseIPSloppy / ParseCIDRSloppy:
 * IPv4 octets may carry leading zeros), and the classifications validation needs.
 */
import type { FieldError } from './types.js';
import { invalid } from './errors.js';

export interface ParsedIP {
  /** 16 bytes; IPv4 is stored as IPv4-mapped IPv6 like Go's net.IP. */
  bytes: number[];
  /** True when the address has an IPv4 form (To4() != nil). */
  v4: boolean;
}

function parseV4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseV6(s: string): number[] | undefined {
  if (s.includes('%')) return undefined; // Go's ParseIP has no zones
  let body = s;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // An embedded dotted IPv4 address ends the string and stands for two groups.
    const v4 = parseV4(last);
    if (!v4) return undefined;
    tail = v4;
    body = s.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const need = tail.length ? 6 : 8;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const halves = body.split('::');
  let groups: number[];
  if (halves.length > 2) return undefined;
  if (halves.length === 2) {
    const head = parseGroups(halves[0]);
    const back = parseGroups(halves[1]);
    // "::" must stand for at least one zero group.
    if (!head || !back || head.length + back.length > need - 1) return undefined;
    groups = [...head, ...new Array(need - head.length - back.length).fill(0), ...back];
  } else {
    const g = parseGroups(body);
    if (!g || g.length !== need) return undefined;
    groups = g;
  }
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  return bytes.concat(tail);
}

export function parseIP(s: string): ParsedIP | undefined {
  if (!s) return undefined;
  const v4 = parseV4(s);
  if (v4) return { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4], v4: true };
  if (!s.includes(':')) return undefined;
  const b = parseV6(s);
  if (!b || b.length !== 16) return undefined;
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return { bytes: b, v4: mapped };
}

export const isIPv6String = (s: string): boolean => {
  const ip = parseIP(s);
  return !!ip && !ip.v4;
};

export function isUnspecified(ip: ParsedIP): boolean {
  return ip.v4 ? ip.bytes.slice(12).every((x) => x === 0) : ip.bytes.every((x) => x === 0);
}
export function isLoopback(ip: ParsedIP): boolean {
  return ip.v4 ? ip.bytes[12] === 127 : ip.bytes.slice(0, 15).every((x) => x === 0) && ip.bytes[15] === 1;
}
export function isLinkLocalUnicast(ip: ParsedIP): boolean {
  return ip.v4 ? ip.bytes[12] === 169 && ip.bytes[13] === 254 : ip.bytes[0] === 0xfe && (ip.bytes[1] & 0xc0) === 0x80;
}
export function isLinkLocalMulticast(ip: ParsedIP): boolean {
  return ip.v4 ? ip.bytes[12] === 224 && ip.bytes[13] === 0 && ip.bytes[14] === 0 : ip.bytes[0] === 0xff && (ip.bytes[1] & 0x0f) === 0x02;
}

export interface ParsedCIDR {
  ip: ParsedIP;
  prefix: number;
  /** Prefix length counted on the 16-byte form. */
  bits: number;
}

export function parseCIDR(s: string): ParsedCIDR | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(p)) return undefined;
  const prefix = Number(p);
  // An IPv4-looking CIDR is parsed in its 4-byte form, so its prefix is at most 32.
  const literalV4 = !s.slice(0, slash).includes(':');
  if (prefix > (literalV4 ? 32 : 128)) return undefined;
  return { ip, prefix, bits: literalV4 ? prefix + 96 : prefix };
}

/** Whether `inner` lies inside `outer` (as net.IPNet.Contains on the network address). */
export function cidrContains(outer: ParsedCIDR, ip: ParsedIP): boolean {
  for (let bit = 0; bit < outer.bits; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((outer.ip.bytes[byte] & mask) !== (ip.bytes[byte] & mask)) return false;
  }
  return true;
}

export function isValidIP(field: string, value: string): FieldError[] {
  return parseIP(value) ? [] : [invalid(field, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

export function isValidCIDR(field: string, value: string): FieldError[] {
  return parseCIDR(value) ? [] : [invalid(field, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/** ValidateNonSpecialIP: Endpoints, EndpointSlices and externalIPs may not use special ranges. */
export function validateNonSpecialIP(value: string, field: string): FieldError[] {
  const ip = parseIP(value);
  if (!ip) return [invalid(field, value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  if (isUnspecified(ip)) errs.push(invalid(field, value, `may not be unspecified (${value})`));
  if (isLoopback(ip)) errs.push(invalid(field, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (isLinkLocalUnicast(ip)) errs.push(invalid(field, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (isLinkLocalMulticast(ip)) errs.push(invalid(field, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}
