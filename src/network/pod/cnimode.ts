import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CniRunner, LOOPBACK_CONF, nodeConfList, type Attachment, type ConfList } from '../cni/cni.js';
import { addNetns, delNetns, netnsName, NetworkSetupError, removeBridgeIfUnused, enableBridgeNetfilter } from './netnsutil.js';
import type { PodNetwork, PodNetworkResult, PodRef } from './types.js';

export interface CniModeOptions {
  /** State: conflist, result cache, host-local allocations (persisted: no IP twice across restarts). */
  dataDir: string;
  binDirs?: string[];
  bridge?: string;
  /** Names netns per sandbox (default skiff-<id>). */
  netnsPrefix?: string;
}

/** Pod networking through real CNI plugins, one network namespace per pod. */
export class CniPodNetwork implements PodNetwork {
  readonly mode = 'cni';
  private list?: ConfList;
  private readonly runner: CniRunner;

  constructor(private readonly o: CniModeOptions) {
    this.runner = new CniRunner({ binDirs: o.binDirs ?? ['/usr/lib/cni', '/opt/cni/bin'], cacheDir: path.join(o.dataDir, 'cache') });
  }

  async configure(podCIDR: string): Promise<void> {
    this.list = nodeConfList({ podCIDR, bridge: this.o.bridge ?? 'skiff0', ipamDataDir: path.join(this.o.dataDir, 'ipam') });
    const conf = path.join(this.o.dataDir, 'net.d', '10-skiff.conflist');
    mkdirSync(path.dirname(conf), { recursive: true });
    writeFileSync(conf, JSON.stringify(this.list, null, 2));
    enableBridgeNetfilter();
  }

  private attachment(pod: PodRef, ns: string, ifName: string): Attachment {
    return {
      containerId: pod.sandboxId,
      netns: `/var/run/netns/${ns}`,
      ifName,
      args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: pod.namespace, K8S_POD_NAME: pod.name, K8S_POD_INFRA_CONTAINER_ID: pod.sandboxId, K8S_POD_UID: pod.uid },
    };
  }

  private nsName(pod: PodRef): string {
    return this.o.netnsPrefix ? `${this.o.netnsPrefix}${pod.sandboxId.slice(0, 12)}` : netnsName(pod.sandboxId);
  }

  async setUp(pod: PodRef): Promise<PodNetworkResult> {
    if (!this.list) throw new NetworkSetupError('the node has no podCIDR yet');
    const ns = this.nsName(pod);
    const netnsPath = await addNetns(ns);
    try {
      await this.runner.add(LOOPBACK_CONF, this.attachment(pod, ns, 'lo'));
      const res = await this.runner.add(this.list, this.attachment(pod, ns, 'eth0'));
      const ip4 = (res?.ips ?? []).find((i: any) => !String(i.address).includes(':'));
      if (!ip4) throw new NetworkSetupError(`CNI returned no IPv4 address: ${JSON.stringify(res)}`);
      const ip = String(ip4.address).split('/')[0];
      return { ip, listenIP: ip, netnsPath, netnsName: ns, gateway: ip4.gateway };
    } catch (e) {
      await this.tearDown(pod).catch(() => undefined);
      throw e;
    }
  }

  async tearDown(pod: PodRef): Promise<void> {
    const ns = this.nsName(pod);
    if (this.list) await this.runner.del(this.list, this.attachment(pod, ns, 'eth0')).catch(() => undefined);
    await delNetns(ns);
  }

  /** Called when the agent stops: the bridge goes too once no pod is attached, leaving the host as found. */
  async close(): Promise<void> {
    if (this.list) await removeBridgeIfUnused(this.o.bridge ?? 'skiff0');
  }
}
