import { R } from '../../client/factory.js';
import { keyOf, type Informer } from '../../client/informer.js';
import { refOf, type EventRecorder } from '../../client/events.js';
import { QueueController, isNotFound, type ControllerContext } from '../controller.js';
import { CidrSet } from '../../network/ipam/cidrset.js';

export interface NodeIpamOptions {
  /** --cluster-cidr (default 10.244.0.0/16). */
  clusterCIDR: string;
  /** --node-cidr-mask-size (default 24). */
  nodeMaskSize: number;
}

let options: NodeIpamOptions = { clusterCIDR: process.env.SKIFF_CLUSTER_CIDR ?? '10.244.0.0/16', nodeMaskSize: Number(process.env.SKIFF_NODE_CIDR_MASK_SIZE ?? 24) };

/** Sets --cluster-cidr / --node-cidr-mask-size for controller managers started afterwards. */
export function configureNodeIpam(o: Partial<NodeIpamOptions>): void {
  options = { ...options, ...o };
}

/**
 * The node IPAM controller (upstream's range allocator): gives every Node without one a
 * spec.podCIDR (and podCIDRs) from the cluster CIDR, one /24 each by default. Used blocks are
 * learnt from the Nodes themselves before the first allocation, so restarts never hand a block
 * out twice; a deleted Node's block is free again.
 */
export class NodeIpamController extends QueueController {
  private readonly nodes: Informer;
  private readonly set: CidrSet;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext, o: NodeIpamOptions = options) {
    super(ctx, 'node-ipam-controller', 1);
    this.set = new CidrSet(o.clusterCIDR, o.nodeMaskSize);
    this.nodes = ctx.informers.for(R.nodes);
    this.recorder = ctx.recorder('cidrAllocator');
    this.nodes.addHandlers({ add: (n) => this.enqueue(n), update: (o2, n) => o2.spec?.podCIDR !== n.spec?.podCIDR && this.enqueue(n), delete: (n) => this.enqueue(n) });
  }

  override run(): void {
    // Occupy what the Nodes already have before anything is handed out.
    for (const n of this.nodes.list()) this.occupy(n);
    super.run();
  }

  private occupy(n: any): boolean {
    const cidr = n.spec?.podCIDR;
    if (!cidr) return false;
    try {
      this.set.occupy(cidr, n.metadata.name);
    } catch (e) {
      this.recorder.event(refOf(n, 'Node', 'v1'), 'Warning', 'CIDRNotAvailable', `Node ${n.metadata.name} status is now: CIDRNotAvailable (${(e as Error).message})`);
    }
    return true;
  }

  protected async reconcile(key: string): Promise<void> {
    const node = this.nodes.get(key);
    if (!node) {
      this.set.release(key);
      return;
    }
    if (this.occupy(node)) return;
    let cidr: string;
    try {
      cidr = this.set.allocate(node.metadata.name);
    } catch (e) {
      this.recorder.event(refOf(node, 'Node', 'v1'), 'Warning', 'CIDRNotAvailable', `Node ${node.metadata.name} status is now: CIDRNotAvailable`);
      throw e;
    }
    try {
      await this.ctx.client.patch(`/api/v1/nodes/${node.metadata.name}`, { spec: { podCIDR: cidr, podCIDRs: [cidr] } }, 'merge');
      this.ctx.log(`node-ipam: ${keyOf(node)} gets podCIDR ${cidr}`);
    } catch (e) {
      this.set.release(node.metadata.name);
      if (!isNotFound(e)) throw e;
    }
  }
}
