/**
 * Subnets of the cluster CIDR handed to nodes (upstream's cidrset): --cluster-cidr split into
 * /nodeMask blocks. State is derived from the Nodes' spec.podCIDR at start, so it survives restarts
 * without a file of its own, as upstream's range allocator.
 */
import { RangeAllocator } from './allocator.js';
import { cidrContains, formatCidr, parseCidr, type Cidr } from './cidr.js';
import { SkiffError } from '../../util/errors.js';

export class CidrSet {
  readonly cluster: Cidr;
  private readonly alloc: RangeAllocator;

  constructor(
    clusterCIDR: string,
    readonly nodeMask: number,
  ) {
    this.cluster = parseCidr(clusterCIDR);
    if (nodeMask < this.cluster.bits || nodeMask > 30) throw new SkiffError('InvalidCIDR', `node mask /${nodeMask} does not fit in ${clusterCIDR}`);
    this.alloc = new RangeAllocator(0, 2 ** (nodeMask - this.cluster.bits) - 1, formatCidr(this.cluster));
  }

  private blockSize(): number {
    return 2 ** (32 - this.nodeMask);
  }

  /** Marks a node's existing CIDR as used; false when it lies outside the cluster CIDR. */
  occupy(cidr: string, owner: string): boolean {
    const c = parseCidr(cidr);
    if (!cidrContains(this.cluster, c.base) || c.bits !== this.nodeMask) return false;
    this.alloc.claim((c.base - this.cluster.base) / this.blockSize(), owner, (i) => this.format(i));
    return true;
  }

  allocate(owner: string): string {
    return this.format(this.alloc.allocate(owner));
  }

  release(owner: string): void {
    this.alloc.releaseOwner(owner);
  }

  releaseCidr(cidr: string): void {
    const c = parseCidr(cidr);
    if (cidrContains(this.cluster, c.base)) this.alloc.release((c.base - this.cluster.base) / this.blockSize());
  }

  private format(i: number): string {
    return formatCidr({ base: this.cluster.base + i * this.blockSize(), bits: this.nodeMask });
  }
}
