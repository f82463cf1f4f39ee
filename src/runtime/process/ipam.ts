import { RuntimeError } from '../cri.js';

/**
 * Pod IPs for the process runtime: addresses from the node's pod range, moved onto the loopback
 * network so no root is needed (Linux routes all of 127.0.0.0/8 to `lo`). A range outside 127/8
 * keeps its host bits and takes 127 as first octet: 10.244.1.0/24 gives 127.244.1.2 …
 * Like host-local, the first address (.0 of the range) and .1 (the gateway) are never handed out.
 */
export class LoopbackIPAM {
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Map<string, number>();
  private next = 2;

  constructor(
    readonly cidr: string,
    previous?: LoopbackIPAM,
  ) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr.trim());
    if (!m) throw new RuntimeError('InvalidArgument', `pod CIDR "${cidr}" is not an IPv4 CIDR`);
    const bits = Math.max(Number(m[5]), 8);
    const ip = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
    const mask = bits === 32 ? 0xffffffff : (~((1 << (32 - bits)) - 1)) >>> 0;
    this.base = ((((ip & mask) >>> 0) & 0x00ffffff) | (127 << 24)) >>> 0;
    this.size = 2 ** (32 - bits);
    if (previous) for (const [k, v] of previous.used) this.used.set(k, v);
  }

  allocate(owner: string): string {
    const taken = new Set(this.used.values());
    for (let i = 0; i < this.size; i++) {
      const off = ((this.next - 2 + i) % Math.max(1, this.size - 3)) + 2;
      if (off >= this.size - 1 || taken.has(off)) continue;
      this.used.set(owner, off);
      this.next = off + 1;
      return toIP(this.base + off);
    }
    throw new RuntimeError('Internal', `no free pod IP left in ${this.cidr}`);
  }

  release(owner: string): void {
    this.used.delete(owner);
  }
}

function toIP(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
