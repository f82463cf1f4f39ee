import { addList, addResource, cloneResource, emptyResource, type Resource } from './resources.js';
import type { HostPort, PodInfo } from './podinfo.js';
import type { Node } from './types.js';

/** The shared empty nomination list. */
export const NO_NOMINATED: PodInfo[] = Object.freeze([]) as unknown as PodInfo[];

let generation = 0;
export function nextGeneration(): number {
  return ++generation;
}

/**
 * A node and the pods on it (bound or assumed) with their sums kept incrementally, as upstream's
 * framework.NodeInfo: adding or removing a pod is O(1) in the node count.
 */
export class NodeInfo {
  node?: Node;
  pods: PodInfo[] = [];
  /** Pods with terms InterPodAffinity scores from existing pods: required affinity, preferred (anti-)affinity. */
  podsWithScoredAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** "protocol/port" → host IPs in use. */
  readonly usedPorts = new Map<string, Map<string, number>>();
  requested: Resource = emptyResource();
  nonZeroRequested: Resource = emptyResource();
  allocatable: Resource = emptyResource();
  generation = nextGeneration();
  /** Image names on the node → size in bytes. */
  images = new Map<string, number>();
  /** Slots for NodeMemo instances (answers remembered for this node), by memo slot number. */
  memo: unknown[] = [];
  /**
   * The pods nominated to this node, kept here by the scheduler core as the queue's nominations
   * change (read-only, shared): filters ask per node per cycle, and a lookup by name cost more than
   * the filters on nodes with nothing nominated.
   */
  nominated: PodInfo[] = NO_NOMINATED;

  constructor(readonly name: string) {}

  setNode(node: Node): void {
    this.node = node;
    const a = emptyResource();
    addList(a, (node.status?.allocatable ?? node.status?.capacity) as Record<string, string> | undefined);
    this.allocatable = a;
    const images = new Map<string, number>();
    for (const img of node.status?.images ?? []) for (const n of img.names ?? []) images.set(normalizeImage(n), img.sizeBytes ?? 0);
    this.images = images;
    this.generation = nextGeneration();
  }

  addPod(pi: PodInfo): void {
    this.pods.push(pi);
    if (hasScoredAffinity(pi)) this.podsWithScoredAffinity.push(pi);
    if (pi.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity.push(pi);
    this.update(pi, 1);
  }

  /** Removes the pod with this uid; false when it is not here. */
  removePod(uid: string): boolean {
    const i = this.pods.findIndex((p) => p.uid === uid);
    if (i < 0) return false;
    const pi = this.pods[i];
    swapRemove(this.pods, i);
    const j = this.podsWithScoredAffinity.findIndex((p) => p.uid === uid);
    if (j >= 0) swapRemove(this.podsWithScoredAffinity, j);
    const k = this.podsWithRequiredAntiAffinity.findIndex((p) => p.uid === uid);
    if (k >= 0) swapRemove(this.podsWithRequiredAntiAffinity, k);
    this.update(pi, -1);
    return true;
  }

  private update(pi: PodInfo, sign: 1 | -1): void {
    addResource(this.requested, pi.requests, sign);
    this.nonZeroRequested.milliCPU += sign * pi.nonZeroRequests.milliCPU;
    this.nonZeroRequested.memory += sign * pi.nonZeroRequests.memory;
    for (const hp of pi.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (sign > 0) {
        if (!ips) this.usedPorts.set(k, (ips = new Map()));
        ips.set(hp.ip, (ips.get(hp.ip) ?? 0) + 1);
      } else if (ips) {
        const n = (ips.get(hp.ip) ?? 0) - 1;
        if (n <= 0) ips.delete(hp.ip);
        else ips.set(hp.ip, n);
        if (!ips.size) this.usedPorts.delete(k);
      }
    }
    this.generation = nextGeneration();
  }

  /** True when a host port of the pod collides, as upstream's HostPortInfo.CheckConflict. */
  portConflict(hp: HostPort): boolean {
    const ips = this.usedPorts.get(`${hp.protocol}/${hp.port}`);
    if (!ips) return false;
    if (hp.ip === '0.0.0.0') return ips.size > 0;
    return ips.has('0.0.0.0') || ips.has(hp.ip);
  }

  /** A copy whose pod lists and sums may be changed without touching this one (preemption, nominated pods). */
  clone(): NodeInfo {
    // Built without the constructor's throwaway allocations: preemption clones a node per candidate.
    const c = Object.create(NodeInfo.prototype) as NodeInfo;
    const w = c as { -readonly [K in keyof NodeInfo]: NodeInfo[K] };
    w.name = this.name;
    w.node = this.node;
    w.pods = this.pods.slice();
    w.podsWithScoredAffinity = this.podsWithScoredAffinity.length ? this.podsWithScoredAffinity.slice() : [];
    w.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.length ? this.podsWithRequiredAntiAffinity.slice() : [];
    const ports = new Map<string, Map<string, number>>();
    for (const [k, v] of this.usedPorts) ports.set(k, new Map(v));
    w.usedPorts = ports;
    w.requested = cloneResource(this.requested);
    w.nonZeroRequested = cloneResource(this.nonZeroRequested);
    w.allocatable = this.allocatable;
    // Same field order as the constructor, so both share one object shape.
    w.generation = this.generation;
    w.images = this.images;
    w.memo = [];
    w.nominated = this.nominated;
    return c;
  }
}

function swapRemove<T>(a: T[], i: number): void {
  a[i] = a[a.length - 1];
  a.pop();
}

/** Appends ":latest" to an untagged, undigested image name, as upstream's normalizedImageName. */
export function normalizeImage(name: string): string {
  if (name.includes('@')) return name;
  return name.lastIndexOf(':') > name.lastIndexOf('/') ? name : `${name}:latest`;
}

/**
 * Whether an existing pod's terms count in InterPodAffinity's score of an incoming pod that has no
 * preferred terms itself: its required affinity (hardPodAffinityWeight) and preferred (anti-)affinity.
 * Its required anti-affinity only filters, as upstream's processExistingPod.
 */
export function hasScoredAffinity(pi: PodInfo): boolean {
  return pi.requiredAffinity.length > 0 || pi.preferredAffinity.length > 0 || pi.preferredAntiAffinity.length > 0;
}
