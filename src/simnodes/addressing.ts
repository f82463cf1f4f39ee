/**
 * Addresses for simulated node number i (0-based): a node IP in 172.16.0.0/12 and a /24 pod range
 * in 10.0.0.0/8, so up to 65,536 nodes get distinct, stable addresses derived from their names.
 */
export function nodeIP(i: number): string {
  return `172.${16 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${(i & 255) || 0}`;
}

export function podCIDR(i: number): string {
  return `10.${(i >> 8) & 255}.${i & 255}.0/24`;
}

/** Hands out pod IPs .1–.254 of a node's /24, reusing released ones. */
export class IPAllocator {
  private next = 1;
  private readonly free: number[] = [];
  private readonly prefix: string;
  constructor(cidr: string) {
    this.prefix = cidr.slice(0, cidr.lastIndexOf('.') + 1);
  }
  allocate(): string | undefined {
    const n = this.free.pop() ?? (this.next <= 254 ? this.next++ : undefined);
    return n === undefined ? undefined : this.prefix + n;
  }
  release(ip: string): void {
    if (!ip.startsWith(this.prefix)) return;
    const n = Number(ip.slice(this.prefix.length));
    if (n >= 1 && n <= 254) this.free.push(n);
  }
}

/** The number at the end of a node name ("sim-node-42" → 42), or undefined. */
export function indexOf(name: string): number | undefined {
  const m = /(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
