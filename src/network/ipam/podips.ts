/**
 * Pod IPs of one node (what host-local does for CNI): addresses of the node's podCIDR, minus the
 * network address, the gateway (.1, the bridge) and the broadcast address, persisted per node.
 */
import { RangeAllocator } from './allocator.js';
import { formatCidr, intToIp, ipToInt, parseCidr, type Cidr } from './cidr.js';
import type { StateStore } from './store.js';

export class PodIPAM {
  readonly cidr: Cidr;
  private readonly alloc: RangeAllocator;

  constructor(
    cidr: string,
    private readonly store: StateStore,
  ) {
    this.cidr = parseCidr(cidr);
    const label = formatCidr(this.cidr);
    this.alloc = new RangeAllocator(this.cidr.base + 2, this.cidr.base + this.cidr.size - 2, label, store.load());
  }

  get gateway(): string {
    return intToIp(this.cidr.base + 1);
  }

  get prefix(): number {
    return this.cidr.bits;
  }

  /** An address for `owner` (a pod sandbox id); the same owner gets the same address back. */
  allocate(owner: string, requested?: string): string {
    if (requested) {
      const v = ipToInt(requested);
      if (v === undefined) throw new Error(`"${requested}" is not an IPv4 address`);
      this.alloc.claim(v, owner, intToIp);
      this.store.save(this.alloc.state());
      return requested;
    }
    const v = this.alloc.allocate(owner);
    this.store.save(this.alloc.state());
    return intToIp(v);
  }

  release(owner: string): string | undefined {
    const v = this.alloc.releaseOwner(owner);
    if (v !== undefined) this.store.save(this.alloc.state());
    return v === undefined ? undefined : intToIp(v);
  }

  ownerOf(ip: string): string | undefined {
    const v = ipToInt(ip);
    return v === undefined ? undefined : this.alloc.ownerOf(v);
  }

  get free(): number {
    return this.alloc.free;
  }
}
