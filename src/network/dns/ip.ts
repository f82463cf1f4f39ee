/**
 * IP text forms the cluster zone needs: canonical IPv6 (RFC 5952, so that an address from an
 * EndpointSlice and one rebuilt from a PTR name compare equal), and the reverse names
 * (in-addr.arpa / ip6.arpa) back to addresses.
 */
import { isIPv4, isIPv6 } from 'node:net';

export { isIPv4, isIPv6 };

/** Eight 16-bit groups of an IPv6 address (undefined when it is not one). */
function groups6(ip: string): number[] | undefined {
  if (!isIPv6(ip)) return undefined;
  let s = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.length === 8 ? all.map((g) => parseInt(g, 16)) : undefined;
}

function format6(g: number[]): string {
  // The longest run of two or more zero groups becomes '::' (the first one on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The canonical text of an address (IPv4 unchanged, IPv6 per RFC 5952); undefined if not an IP. */
export function canonicalIP(ip: string): string | undefined {
  if (isIPv4(ip)) return ip;
  const g = groups6(ip);
  return g && format6(g);
}

/** The address a reverse name stands for (`4.3.2.1.in-addr.arpa`, 32 nibbles of ip6.arpa), or undefined. */
export function addressFromReverse(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.endsWith('.in-addr.arpa')) {
    const o = n.slice(0, -'.in-addr.arpa'.length).split('.');
    const ip = o.reverse().join('.');
    return o.length === 4 && isIPv4(ip) && o.every((x) => /^\d+$/.test(x) && String(Number(x)) === x) ? ip : undefined;
  }
  if (n.endsWith('.ip6.arpa')) {
    const nib = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (nib.length !== 32 || !nib.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    const hex = nib.reverse().join('');
    const g: number[] = [];
    for (let i = 0; i < 8; i++) g.push(parseInt(hex.slice(i * 4, i * 4 + 4), 16));
    return format6(g);
  }
  return undefined;
}

/** The reverse name of an address (for tests and clients). */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const g = groups6(ip);
  if (!g) throw new Error(`not an IP address: ${ip}`);
  return `${g.map((x) => x.toString(16).padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}
