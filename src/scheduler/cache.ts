import type { Snapshot } from './interface.js';
import { hasScoredAffinity, NodeInfo, normalizeImage } from './nodeinfo.js';
import type { PodInfo } from './podinfo.js';
import { AntiTermIndex, TopologyCounts, type AntiTermGroup, type CountSpec } from './topocount.js';
import type { Node } from './types.js';

/** Topology count indexes kept at once (one per distinct constraint/term in recent use). */
const MAX_INDEXES = 64;

interface PodState {
  pi: PodInfo;
  node: string;
  assumed: boolean;
  /** The binding call returned; an assumed pod may expire from then on. */
  bindingFinished?: boolean;
  deadline?: number;
}

export interface CacheOptions {
  /** Called for each NodeInfo the cache creates (the core fills in its nominated pods). */
  onNewNodeInfo?: (ni: NodeInfo) => void;
  /**
   * How long an assumed pod whose binding call returned may wait for the informer to confirm it
   * before the cache forgets it, as upstream's durationToExpireAssumedPod; 0 (upstream's value
   * since kubernetes#106361) never expires.
   */
  assumedPodTtlMs?: number;
  now?: () => number;
}

function zoneOf(node: Node): string {
  const l = node.metadata?.labels ?? {};
  const region = l['topology.kubernetes.io/region'] ?? '';
  const zone = l['topology.kubernetes.io/zone'] ?? '';
  return `${region}:\u0000:${zone}`;
}

function sameLabelsAndTaints(a: Node, b: Node): boolean {
  if (a.metadata?.labels !== b.metadata?.labels && JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {})) return false;
  return a.spec?.taints === b.spec?.taints || JSON.stringify(a.spec?.taints ?? []) === JSON.stringify(b.spec?.taints ?? []);
}

/**
 * The scheduler's view of nodes and the pods on them, including pods assumed onto a node before
 * their binding is confirmed, as upstream's cache. The scheduling cycle runs synchronously between
 * informer events, so the cache itself serves as the cycle's snapshot: no per-cycle copy is needed.
 */
export class Cache implements Snapshot {
  private readonly infos = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  private readonly imageNodes = new Map<string, number>();
  private order: NodeInfo[] | null = null;
  // Kept up to date pod by pod; rebuilt from nodes() only after a node is added, removed or relabelled.
  private readonly scoredAffinityNodes = new NodeList(() => this.nodes(), (ni) => ni.podsWithScoredAffinity.length > 0);
  private readonly antiNodes = new NodeList(() => this.nodes(), (ni) => ni.podsWithRequiredAntiAffinity.length > 0);
  /** Names of nodes whose pods, labels or existence changed, in order; changeLog[0] has sequence logStart. */
  private changeLog: string[] = [];
  private logStart = 0;
  private readonly indexes = new Map<string, TopologyCounts>();
  private readonly assumed = new Set<string>();
  private readonly antiTerms = new AntiTermIndex();
  private readonly ttlMs: number;
  private readonly now: () => number;

  private readonly onNewNodeInfo?: (ni: NodeInfo) => void;

  constructor(o: CacheOptions = {}) {
    this.ttlMs = o.assumedPodTtlMs ?? 0;
    this.now = o.now ?? Date.now;
    this.onNewNodeInfo = o.onNewNodeInfo;
  }

  // Snapshot.

  nodes(): NodeInfo[] {
    if (!this.order) this.order = this.buildOrder();
    return this.order;
  }

  get(name: string): NodeInfo | undefined {
    const ni = this.infos.get(name);
    return ni?.node ? ni : undefined;
  }

  withScoredAffinity(): NodeInfo[] {
    return this.scoredAffinityNodes.items();
  }

  withRequiredAntiAffinity(): NodeInfo[] {
    return this.antiNodes.items();
  }

  imageNodeCount(image: string): number {
    return this.imageNodes.get(image) ?? 0;
  }

  /** Sequence number of the next change to a node (pods, labels, existence). */
  get changeSeq(): number {
    return this.logStart + this.changeLog.length;
  }

  /**
   * Matching pods per topology value, from an index brought up to date with the nodes changed
   * since its last use (built once per spec, then O(changed nodes) per call). The map is the
   * index's own: callers must copy it before changing it.
   */
  topologyCounts(spec: CountSpec): ReadonlyMap<string, number> {
    let ix = this.indexes.get(spec.key);
    if (ix) {
      // Most recently used last, so the eviction below drops the stalest.
      this.indexes.delete(spec.key);
      this.indexes.set(spec.key, ix);
    } else {
      ix = new TopologyCounts(spec);
      this.indexes.set(spec.key, ix);
      if (this.indexes.size > MAX_INDEXES) this.indexes.delete(this.indexes.keys().next().value!);
    }
    const end = this.changeSeq;
    if (ix.seq < 0 || ix.seq < this.logStart) {
      ix.reset();
      for (const [name, ni] of this.infos) ix.refreshNode(name, ni);
    } else if (ix.seq < end) {
      const from = ix.seq - this.logStart;
      if (end - ix.seq === 1) ix.refreshNode(this.changeLog[from], this.infos.get(this.changeLog[from]));
      else {
        const names = new Set<string>();
        for (let i = from; i < this.changeLog.length; i++) names.add(this.changeLog[i]);
        for (const n of names) ix.refreshNode(n, this.infos.get(n));
      }
    }
    ix.seq = end;
    return ix.counts;
  }

  /** Existing pods' required anti-affinity terms by group, or undefined while some cannot be grouped. Read-only. */
  antiAffinityGroups(): Iterable<AntiTermGroup> | undefined {
    return this.antiTerms.unindexed > 0 ? undefined : this.antiTerms.groups.values();
  }

  private touched(name: string): void {
    this.changeLog.push(name);
    if (this.changeLog.length > Math.max(8192, 4 * this.infos.size)) {
      // Indexes further behind than what is dropped rebuild from scratch on their next use.
      const half = this.changeLog.length >> 1;
      this.changeLog = this.changeLog.slice(half);
      this.logStart += half;
    }
  }

  /** Zones interleaved (one node from each zone in turn), as upstream's nodeTree, so early stopping still spreads. */
  private buildOrder(): NodeInfo[] {
    const zones = new Map<string, NodeInfo[]>();
    for (const ni of this.infos.values()) {
      if (!ni.node) continue;
      const z = zoneOf(ni.node);
      let l = zones.get(z);
      if (!l) zones.set(z, (l = []));
      l.push(ni);
    }
    if (zones.size <= 1) return [...(zones.values().next().value ?? [])];
    const lists = [...zones.values()];
    const out: NodeInfo[] = [];
    for (let i = 0; out.length < this.infos.size; i++) {
      let any = false;
      for (const l of lists) {
        if (i < l.length) {
          out.push(l[i]);
          any = true;
        }
      }
      if (!any) break;
    }
    return out;
  }

  private podListsChanged(ni: NodeInfo, pi: PodInfo): void {
    if (!ni.node) return; // not among nodes() until its Node arrives (then the lists are rebuilt)
    if (hasScoredAffinity(pi)) this.scoredAffinityNodes.refresh(ni);
    if (pi.requiredAntiAffinity.length) this.antiNodes.refresh(ni);
  }

  private info(name: string): NodeInfo {
    let ni = this.infos.get(name);
    if (!ni) {
      this.infos.set(name, (ni = new NodeInfo(name)));
      this.onNewNodeInfo?.(ni);
    }
    return ni;
  }

  // Nodes.

  addNode(node: Node): void {
    this.updateNode(undefined, node);
  }

  updateNode(old: Node | undefined, node: Node): void {
    const ni = this.info(node.metadata!.name!);
    const prev = ni.node;
    if (prev) this.countImages(ni, -1);
    // Anti-affinity terms are counted by their node's labels: recount them under the new ones.
    const relabel = ni.podsWithRequiredAntiAffinity.length > 0 && prev?.metadata?.labels !== node.metadata?.labels;
    if (relabel) for (const p of ni.podsWithRequiredAntiAffinity) this.antiTerms.account(p, prev?.metadata?.labels, -1, true);
    ni.setNode(node);
    if (relabel) for (const p of ni.podsWithRequiredAntiAffinity) this.antiTerms.account(p, node.metadata?.labels, 1, true);
    this.countImages(ni, 1);
    if (!prev || zoneOf(old ?? prev) !== zoneOf(node)) this.invalidateOrder();
    // Heartbeats change neither; topology indexes care only about labels and taints.
    if (!prev || !sameLabelsAndTaints(prev, node)) this.touched(ni.name);
  }

  removeNode(node: Node): void {
    const name = node.metadata!.name!;
    const ni = this.infos.get(name);
    if (!ni) return;
    this.countImages(ni, -1);
    for (const p of ni.podsWithRequiredAntiAffinity) this.antiTerms.account(p, ni.node?.metadata?.labels, -1, true);
    // Pods still on it keep the entry alive (node unset) until they are removed, as upstream.
    if (ni.pods.length) ni.node = undefined;
    else this.infos.delete(name);
    this.invalidateOrder();
    this.touched(name);
  }

  private invalidateOrder(): void {
    this.order = null;
    this.scoredAffinityNodes.invalidate();
    this.antiNodes.invalidate();
  }

  private countImages(ni: NodeInfo, by: number): void {
    for (const img of ni.images.keys()) {
      const n = (this.imageNodes.get(img) ?? 0) + by;
      if (n <= 0) this.imageNodes.delete(img);
      else this.imageNodes.set(img, n);
    }
  }

  get nodeCount(): number {
    return this.nodes().length;
  }

  // Pods.

  isAssumed(uid: string): boolean {
    return this.pods.get(uid)?.assumed ?? false;
  }

  podCount(): number {
    return this.pods.size;
  }

  /** Puts a pod on its chosen node before the binding lands, so the next cycle sees the room taken. */
  assumePod(pi: PodInfo): void {
    const node = pi.pod.spec!.nodeName!;
    if (this.pods.has(pi.uid)) throw new Error(`pod ${pi.key} is already in the cache`);
    this.place(pi, node);
    this.pods.set(pi.uid, { pi, node, assumed: true });
    this.assumed.add(pi.uid);
  }

  /** The binding call for an assumed pod returned: its expiry clock starts, as upstream's FinishBinding. */
  finishBinding(uid: string): void {
    const st = this.pods.get(uid);
    if (!st || !st.assumed) return;
    st.bindingFinished = true;
    if (this.ttlMs > 0) st.deadline = this.now() + this.ttlMs;
  }

  /**
   * Forgets assumed pods whose binding returned more than the TTL ago and that the informer never
   * confirmed (a lost watch event, a binding that did not stick), so their room is not held
   * forever; returns them. Upstream runs this every second.
   */
  cleanupExpiredAssumedPods(): PodInfo[] {
    if (this.ttlMs <= 0 || !this.assumed.size) return [];
    const now = this.now();
    const out: PodInfo[] = [];
    for (const uid of this.assumed) {
      const st = this.pods.get(uid)!;
      if (!st.bindingFinished || st.deadline === undefined || now < st.deadline) continue;
      this.unplace(st);
      this.pods.delete(uid);
      this.assumed.delete(uid);
      out.push(st.pi);
    }
    return out;
  }

  /** Undoes assumePod (the binding failed). */
  forgetPod(pi: PodInfo): void {
    const st = this.pods.get(pi.uid);
    if (!st || !st.assumed) return;
    this.unplace(st);
    this.pods.delete(pi.uid);
    this.assumed.delete(pi.uid);
  }

  /** An assigned pod seen through the informer: confirms an assumed pod, or adds it. */
  addPod(pi: PodInfo): void {
    const node = pi.pod.spec!.nodeName!;
    const st = this.pods.get(pi.uid);
    if (st) {
      this.unplace(st);
      this.pods.delete(pi.uid);
      this.assumed.delete(pi.uid);
    }
    this.place(pi, node);
    this.pods.set(pi.uid, { pi, node, assumed: false });
  }

  updatePod(pi: PodInfo): void {
    this.addPod(pi);
  }

  removePod(uid: string): void {
    const st = this.pods.get(uid);
    if (!st) return;
    this.unplace(st);
    this.pods.delete(uid);
    this.assumed.delete(uid);
  }

  private place(pi: PodInfo, node: string): void {
    const ni = this.info(node);
    ni.addPod(pi);
    this.podListsChanged(ni, pi);
    if (pi.requiredAntiAffinity.length) this.antiTerms.account(pi, ni.node?.metadata?.labels, 1);
    this.touched(node);
  }

  private unplace(st: PodState): void {
    const ni = this.infos.get(st.node);
    if (!ni) return;
    if (ni.removePod(st.pi.uid) && st.pi.requiredAntiAffinity.length) this.antiTerms.account(st.pi, ni.node?.metadata?.labels, -1);
    this.podListsChanged(ni, st.pi);
    if (!ni.node && !ni.pods.length) this.infos.delete(st.node);
    this.touched(st.node);
  }

  /** The PodInfo the cache holds for a pod. */
  podInfo(uid: string): PodInfo | undefined {
    return this.pods.get(uid)?.pi;
  }
}

export { normalizeImage };

/**
 * The nodes that pass a test, as an array kept in step with single-node changes (O(1) each) instead
 * of filtering every node again after each pod: with thousands of nodes that filter cost more than
 * the plugins that read the list. Order is unspecified; readers only sum over it.
 */
class NodeList {
  private list: NodeInfo[] = [];
  private readonly at = new Map<NodeInfo, number>();
  private stale = true;
  constructor(
    private readonly all: () => NodeInfo[],
    private readonly test: (ni: NodeInfo) => boolean,
  ) {}

  items(): NodeInfo[] {
    if (this.stale) {
      this.list = this.all().filter(this.test);
      this.at.clear();
      this.list.forEach((ni, i) => this.at.set(ni, i));
      this.stale = false;
    }
    return this.list;
  }

  /** Re-tests one node already among nodes(). */
  refresh(ni: NodeInfo): void {
    if (this.stale) return;
    const i = this.at.get(ni);
    const want = this.test(ni);
    if (want && i === undefined) {
      this.at.set(ni, this.list.length);
      this.list.push(ni);
    } else if (!want && i !== undefined) {
      const last = this.list.pop()!;
      if (last !== ni) {
        this.list[i] = last;
        this.at.set(last, i);
      }
      this.at.delete(ni);
    }
  }

  invalidate(): void {
    this.stale = true;
  }
}
