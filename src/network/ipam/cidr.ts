/** IPv4 addresses and CIDRs as unsigned 32-bit integers. */
import { SkiffError } from '../../util/errors.js';

export interface Cidr {
  /** Network address. */
  base: number;
  bits: number;
  /** Number of addresses. */
  size: number;
}

export function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return undefined;
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(s: string): Cidr {
  const [ip, b] = s.trim().split('/');
  const n = ipToInt(ip);
  const bits = Number(b);
  if (n === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new SkiffError('InvalidCIDR', `"${s}" is not an IPv4 CIDR`);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (n & mask) >>> 0, bits, size: 2 ** (32 - bits) };
}

export function formatCidr(c: { base: number; bits: number }): string {
  return `${intToIp(c.base)}/${c.bits}`;
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + c.size;
}
