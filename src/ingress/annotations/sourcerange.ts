/**
 * whitelist-source-range (alias allowlist-source-range) and denylist-source-range, CIDR lists
 * rendered by ingress-nginx as `deny …;` then `allow …; deny all;`: denied first, then allowed.
 */
import net from 'node:net';
import type { Reader } from './reader.js';

export interface SourceRangeConfig {
  allow: net.BlockList | null;
  deny: net.BlockList | null;
  /** As written, for display. */
  allowText: string[];
  denyText: string[];
}

/** A comma-separated list of addresses or CIDRs; null and the bad entry when one is invalid. */
export function parseCidrs(v: string): { list: net.BlockList; text: string[] } | { bad: string } {
  const list = new net.BlockList();
  const text: string[] = [];
  for (const raw of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [addr, bits, extra] = raw.split('/');
    const type = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : null;
    const max = type === 'ipv4' ? 32 : 128;
    if (!type || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) return { bad: raw };
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
    text.push(raw);
  }
  return { list, text };
}

export function parseSourceRange(r: Reader): SourceRangeConfig & { invalid: string | null } {
  const out: SourceRangeConfig & { invalid: string | null } = { allow: null, deny: null, allowText: [], denyText: [], invalid: null };
  for (const name of ['whitelist-source-range', 'allowlist-source-range', 'denylist-source-range']) {
    const v = r.str(name);
    if (v === undefined) continue;
    const p = parseCidrs(v);
    if ('bad' in p) {
      // ingress-nginx denies the location (503) rather than opening it.
      r.invalid(name, v, `${JSON.stringify(p.bad)} is not an IP address or CIDR`);
      out.invalid = `${name} is invalid`;
      continue;
    }
    if (name === 'denylist-source-range') (out.deny = p.list), (out.denyText = p.text);
    else if (!out.allow) (out.allow = p.list), (out.allowText = p.text);
  }
  return out;
}

/** Strips IPv4-mapped IPv6 (`::ffff:10.0.0.1`), as nginx sees such clients as IPv4. */
export function clientAddress(remote: string): { addr: string; type: 'ipv4' | 'ipv6' } {
  if (remote.startsWith('::ffff:') && net.isIPv4(remote.slice(7))) return { addr: remote.slice(7), type: 'ipv4' };
  return { addr: remote, type: net.isIPv4(remote) ? 'ipv4' : 'ipv6' };
}

export function sourceAllowed(c: SourceRangeConfig, remote: string): boolean {
  if (!c.allow && !c.deny) return true;
  const { addr, type } = clientAddress(remote);
  if (c.deny?.check(addr, type)) return false;
  if (c.allow) return c.allow.check(addr, type);
  return true;
}
