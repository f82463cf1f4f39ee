import path from 'node:path';
import { PodIPAM } from '../ipam/podips.js';
import { FileStateStore } from '../ipam/store.js';
import { loopbackAlias } from '../proxy/userspace.js';
import { NetworkSetupError } from './netnsutil.js';
import type { PodNetwork, PodNetworkResult, PodRef } from './types.js';

/**
 * No root: the pod gets an address of the node's range (valid in EndpointSlices, which refuse
 * loopback addresses) and its processes share the host network, reachable on the address's
 * 127 alias (10.244.0.5 → 127.244.0.5), where the user-space proxy and cluster DNS send traffic.
 * There is no isolation and NetworkPolicy is not enforced in this mode.
 */
export class LoopbackPodNetwork implements PodNetwork {
  readonly mode = 'loopback';
  private ipam?: PodIPAM;

  constructor(private readonly o: { dataDir: string }) {}

  async configure(podCIDR: string): Promise<void> {
    this.ipam = new PodIPAM(podCIDR, new FileStateStore(path.join(this.o.dataDir, 'ipam', `${podCIDR.replace('/', '_')}.json`)));
  }

  async setUp(pod: PodRef): Promise<PodNetworkResult> {
    if (!this.ipam) throw new NetworkSetupError('the node has no podCIDR yet');
    const ip = this.ipam.allocate(pod.sandboxId);
    return { ip, listenIP: loopbackAlias(ip), gateway: this.ipam.gateway };
  }

  async tearDown(pod: PodRef): Promise<void> {
    this.ipam?.release(pod.sandboxId);
  }

  async close(): Promise<void> {}
}
