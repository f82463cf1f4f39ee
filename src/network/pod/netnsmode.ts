import path from 'node:path';
import { createHash } from 'node:crypto';
import { PodIPAM } from '../ipam/podips.js';
import { FileStateStore } from '../ipam/store.js';
import { addNetns, delNetns, ip, linkExists, netnsName, run, NetworkSetupError, removeBridgeIfUnused, enableBridgeNetfilter } from './netnsutil.js';
import type { PodNetwork, PodNetworkResult, PodRef } from './types.js';

export interface NetnsModeOptions {
  dataDir: string;
  bridge?: string;
  netnsPrefix?: string;
}

/**
 * What the bridge + host-local plugins do, with iproute2 only (root without CNI plugins): a
 * bridge holding the range's gateway, a veth pair per pod (one end in the pod's netns as eth0),
 * the pod's address from the persistent PodIPAM and a default route through the gateway.
 */
export class NetnsPodNetwork implements PodNetwork {
  readonly mode = 'netns';
  private ipam?: PodIPAM;

  constructor(private readonly o: NetnsModeOptions) {}

  private get bridge(): string {
    return this.o.bridge ?? 'skiff0';
  }

  async configure(podCIDR: string): Promise<void> {
    this.ipam = new PodIPAM(podCIDR, new FileStateStore(path.join(this.o.dataDir, 'ipam', `${podCIDR.replace('/', '_')}.json`)));
    if (!(await linkExists(this.bridge))) await ip('link', 'add', this.bridge, 'type', 'bridge').catch((e) => (/File exists/.test(e.message) ? '' : Promise.reject(e)));
    await ip('addr', 'replace', `${this.ipam.gateway}/${this.ipam.prefix}`, 'dev', this.bridge);
    await ip('link', 'set', this.bridge, 'up');
    await run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']).catch(() => undefined);
    enableBridgeNetfilter();
  }

  private nsName(pod: PodRef): string {
    return this.o.netnsPrefix ? `${this.o.netnsPrefix}${pod.sandboxId.slice(0, 12)}` : netnsName(pod.sandboxId);
  }

  /** Host-side veth name: ≤ 15 characters, derived from the sandbox id. */
  private hostIf(pod: PodRef): string {
    return `veth${createHash('sha256').update(pod.sandboxId).digest('hex').slice(0, 11)}`;
  }

  async setUp(pod: PodRef): Promise<PodNetworkResult> {
    if (!this.ipam) throw new NetworkSetupError('the node has no podCIDR yet');
    const ns = this.nsName(pod);
    const netnsPath = await addNetns(ns);
    const hostIf = this.hostIf(pod);
    try {
      const addr = this.ipam.allocate(pod.sandboxId);
      if (!(await linkExists(hostIf))) await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await ip('link', 'set', hostIf, 'master', this.bridge, 'up');
      await ip('-n', ns, 'addr', 'replace', `${addr}/${this.ipam.prefix}`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'route', 'replace', 'default', 'via', this.ipam.gateway);
      return { ip: addr, listenIP: addr, netnsPath, netnsName: ns, gateway: this.ipam.gateway };
    } catch (e) {
      await this.tearDown(pod).catch(() => undefined);
      throw e;
    }
  }

  async tearDown(pod: PodRef): Promise<void> {
    await ip('link', 'del', this.hostIf(pod)).catch(() => undefined);
    await delNetns(this.nsName(pod));
    this.ipam?.release(pod.sandboxId);
  }

  /** Called when the agent stops: the bridge goes too once no pod is attached, leaving the host as found. */
  async close(): Promise<void> {
    if (this.ipam) await removeBridgeIfUnused(this.bridge);
  }
}
