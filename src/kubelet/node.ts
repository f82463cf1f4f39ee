/**
 * The kubelet's Node object and heartbeats: capacity and allocatable from the real machine,
 * addresses, nodeInfo, well-known labels, the four pressure conditions plus Ready, and the Lease
 * in kube-node-lease renewed every 10 s (leaseDurationSeconds 40, as upstream).
 */
import os from 'node:os';
import { readFileSync, statfsSync } from 'node:fs';
import { ApiError, type RestClient } from '../client/rest.js';

export const KUBELET_VERSION = 'v1.32.0';
export const LEASE_DURATION_SECONDS = 40;
export const LEASE_RENEW_MS = 10_000;

export interface NodeOptions {
  nodeName: string;
  nodeIP: string;
  dataDir: string;
  podCIDR?: string;
  kubeletPort: number;
  runtimeVersion: string;
  labels?: Record<string, string>;
  maxPods?: number;
  /** Conditions beyond the standard ones (e.g. NetworkPolicyNotEnforced in loopback mode). */
  extraConditions?: { type: string; status: string; reason: string; message: string }[];
}

function readOr(p: string, dflt: string): string {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return dflt;
  }
}

const goArch = (a: string) => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' })[a] ?? a;

function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readOr('/etc/os-release', ''));
  return m?.[1] ?? `${os.type()} ${os.release()}`;
}

export function machineResources(dataDir: string, maxPods = 110): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const memKi = Math.floor(os.totalmem() / 1024);
  let storage = 0;
  try {
    const s = statfsSync(dataDir);
    storage = s.blocks * s.bsize;
  } catch {
    storage = 0;
  }
  const cpu = String(os.availableParallelism?.() ?? os.cpus().length);
  const capacity = { cpu, memory: `${memKi}Ki`, pods: String(maxPods), 'ephemeral-storage': `${Math.floor(storage / 1024)}Ki`, 'hugepages-2Mi': '0' };
  // Upstream reserves the hard eviction threshold (memory.available<100Mi) and 10% of storage.
  const allocatable = { ...capacity, memory: `${Math.max(0, memKi - 100 * 1024)}Ki`, 'ephemeral-storage': String(Math.floor(storage * 0.9)) };
  return { capacity, allocatable };
}

function conditions(now: string, prev: any[] = [], extra: NonNullable<NodeOptions['extraConditions']> = []): any[] {
  const c = (type: string, status: string, reason: string, message: string) => {
    const old = prev.find((x) => x.type === type);
    return { type, status, lastHeartbeatTime: now, lastTransitionTime: old?.status === status ? old.lastTransitionTime : now, reason, message };
  };
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ...extra.map((x) => c(x.type, x.status, x.reason, x.message)),
  ];
}

export function nodeStatus(o: NodeOptions, prev?: any): any {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const { capacity, allocatable } = machineResources(o.dataDir, o.maxPods);
  return {
    capacity,
    allocatable,
    conditions: conditions(now, prev?.conditions, o.extraConditions),
    addresses: [
      { type: 'InternalIP', address: o.nodeIP },
      { type: 'Hostname', address: o.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: o.kubeletPort } },
    nodeInfo: {
      machineID: readOr('/etc/machine-id', ''),
      systemUUID: readOr('/sys/class/dmi/id/product_uuid', ''),
      bootID: readOr('/proc/sys/kernel/random/boot_id', ''),
      kernelVersion: os.release(),
      osImage: osImage(),
      containerRuntimeVersion: o.runtimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: os.platform(),
      architecture: goArch(os.arch()),
    },
    images: prev?.images ?? [],
  };
}

export function nodeObject(o: NodeOptions): any {
  const arch = goArch(os.arch());
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: o.nodeName,
      labels: {
        'kubernetes.io/hostname': o.nodeName,
        'kubernetes.io/os': os.platform(),
        'kubernetes.io/arch': arch,
        'beta.kubernetes.io/os': os.platform(),
        'beta.kubernetes.io/arch': arch,
        ...o.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: o.podCIDR ? { podCIDR: o.podCIDR, podCIDRs: [o.podCIDR] } : {},
  };
}

/** The events upstream's kubelet records when a node condition takes a status (setters.go). */
const CONDITION_EVENTS: Record<string, Record<string, string>> = {
  MemoryPressure: { False: 'NodeHasSufficientMemory', True: 'NodeHasInsufficientMemory' },
  DiskPressure: { False: 'NodeHasNoDiskPressure', True: 'NodeHasDiskPressure' },
  PIDPressure: { False: 'NodeHasSufficientPID', True: 'NodeHasInsufficientPID' },
  Ready: { True: 'NodeReady', False: 'NodeNotReady' },
};

/**
 * The kubelet's Node events for a status write, as upstream's: "Node NAME status is now: REASON" for
 * each condition that is new or changed its status (so a fresh node gets all four).
 */
export function nodeConditionEvents(nodeName: string, prev: any[] = [], next: any[] = []): { reason: string; message: string }[] {
  const out: { reason: string; message: string }[] = [];
  for (const c of next) {
    const reason = CONDITION_EVENTS[c.type]?.[c.status];
    if (!reason || prev.find((x) => x.type === c.type)?.status === c.status) continue;
    out.push({ reason, message: `Node ${nodeName} status is now: ${reason}` });
  }
  return out;
}

/**
 * Creates or updates the Node and writes its status; returns the stored Node. `record` gets the
 * Node events of the start, as upstream's kubelet records them (Starting, the conditions,
 * NodeAllocatableEnforced, NodeReady), on a restart too.
 */
export async function registerNode(client: RestClient, o: NodeOptions, record?: (reason: string, message: string) => void): Promise<any> {
  let node: any;
  try {
    node = await client.create('/api/v1/nodes', nodeObject(o));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) throw e;
    node = await client.get(`/api/v1/nodes/${o.nodeName}`);
    const want = nodeObject(o);
    const patch: any = { metadata: { labels: want.metadata.labels } };
    if (o.podCIDR && !node.spec?.podCIDR) patch.spec = want.spec;
    node = await client.patch(`/api/v1/nodes/${o.nodeName}`, patch, 'merge');
  }
  const stored = await updateNodeStatus(client, o, node);
  if (record) {
    record('Starting', 'Starting kubelet.');
    // Upstream's kubelet runs its status setters on a fresh Node at each start, so every condition is new.
    const events = nodeConditionEvents(o.nodeName, undefined, stored?.status?.conditions);
    // Upstream records Ready after the allocatable limits are enforced.
    for (const e of events) if (e.reason !== 'NodeReady' && e.reason !== 'NodeNotReady') record(e.reason, e.message);
    record('NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods');
    for (const e of events) if (e.reason === 'NodeReady' || e.reason === 'NodeNotReady') record(e.reason, e.message);
  }
  return stored;
}

export async function updateNodeStatus(client: RestClient, o: NodeOptions, node?: any): Promise<any> {
  const status = nodeStatus(o, node?.status);
  return client.patch(`/api/v1/nodes/${o.nodeName}/status`, { status }, 'merge');
}

/** Creates or renews the node's Lease. */
export async function renewLease(client: RestClient, nodeName: string, nodeUID?: string): Promise<void> {
  const p = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`;
  const renewTime = new Date().toISOString().replace('Z', '000Z');
  try {
    await client.patch(p, { spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime } }, 'merge');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
    // The API server creates kube-node-lease upstream; make sure it is there.
    await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } }).catch(() => undefined);
    await client.create('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: nodeName, namespace: 'kube-node-lease', ownerReferences: nodeUID ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUID }] : undefined },
      spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime },
    });
  }
}
