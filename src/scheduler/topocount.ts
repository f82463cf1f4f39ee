import type { NodeInfo } from './nodeinfo.js';
import type { AffinityTerm, PodInfo } from './podinfo.js';
import type { Node } from './types.js';

/**
 * What to count: pods matching a predicate, summed per value of a node label over the nodes that
 * are eligible. `key` identifies the spec: two specs with the same key must give the same answers
 * (the index built for the first one serves the second).
 */
export interface CountSpec {
  key: string;
  topologyKey: string;
  matches(pi: PodInfo): boolean;
  /** Whether the node's domain counts at all (default: it has the topology label). */
  eligible?(node: Node): boolean;
  /** Count pods being deleted too (PodTopologySpread skips them, InterPodAffinity does not). */
  includeTerminating?: boolean;
}

/** Where a node's pods went into the index last time. */
interface NodeEntry {
  value: string | undefined;
  count: number;
}

/**
 * Matching pods per topology value, kept up to date across scheduling cycles from the cache's log
 * of changed nodes, so a PreFilter costs the nodes that changed since the last pod rather than a
 * scan of every pod on every node. Domains of eligible nodes are present even with zero pods.
 */
export class TopologyCounts {
  /** value → matching pods. Read-only for callers. */
  readonly counts = new Map<string, number>();
  /** value → eligible nodes, to know when a domain disappears. */
  private readonly nodesPer = new Map<string, number>();
  private readonly perNode = new Map<string, NodeEntry>();
  /** The cache's change sequence this index reflects; -1 before the first build. */
  seq = -1;

  constructor(readonly spec: CountSpec) {}

  /** Recomputes one node's contribution (ni undefined or without a Node: the node is gone). */
  refreshNode(name: string, ni: NodeInfo | undefined): void {
    const old = this.perNode.get(name);
    if (old) this.apply(old, -1);
    const node = ni?.node;
    const v = node?.metadata?.labels?.[this.spec.topologyKey];
    if (!ni || !node || v === undefined || (this.spec.eligible && !this.spec.eligible(node))) {
      this.perNode.delete(name);
      return;
    }
    let count = 0;
    const all = !!this.spec.includeTerminating;
    for (const p of ni.pods) {
      if (!all && p.pod.metadata?.deletionTimestamp) continue;
      if (this.spec.matches(p)) count++;
    }
    const e = { value: v, count };
    this.perNode.set(name, e);
    this.apply(e, 1);
  }

  reset(): void {
    this.counts.clear();
    this.nodesPer.clear();
    this.perNode.clear();
  }

  private apply(e: NodeEntry, sign: 1 | -1): void {
    const v = e.value!;
    const nodes = (this.nodesPer.get(v) ?? 0) + sign;
    if (nodes <= 0) {
      this.nodesPer.delete(v);
      this.counts.delete(v);
      return;
    }
    this.nodesPer.set(v, nodes);
    this.counts.set(v, (this.counts.get(v) ?? 0) + sign * e.count);
  }
}

/** The naive computation TopologyCounts keeps incrementally (for tests and for snapshots without a change log). */
export function countByTopology(nodes: NodeInfo[], spec: CountSpec): Map<string, number> {
  const out = new Map<string, number>();
  for (const ni of nodes) {
    const node = ni.node;
    const v = node?.metadata?.labels?.[spec.topologyKey];
    if (!node || v === undefined || (spec.eligible && !spec.eligible(node))) continue;
    let n = 0;
    for (const p of ni.pods) if ((spec.includeTerminating || !p.pod.metadata?.deletionTimestamp) && spec.matches(p)) n++;
    out.set(v, (out.get(v) ?? 0) + n);
  }
  return out;
}

/** Existing pods' required anti-affinity terms that select the same pods over the same topology key. */
export interface AntiTermGroup {
  /** One of the terms (they all match the same pods). */
  term: AffinityTerm;
  topologyKey: string;
  /** Topology value → how many such terms sit in that domain. */
  counts: Map<string, number>;
  total: number;
}

/**
 * Required anti-affinity terms of the pods in the cache, grouped by what they select, kept as
 * pods come and go and node labels change. InterPodAffinity's PreFilter then tests each group
 * against the incoming pod once instead of every term of every pod. Terms with a
 * namespaceSelector (their matches move with namespace labels) are only counted, so the plugin
 * falls back to the scan while any exist.
 */
export class AntiTermIndex {
  readonly groups = new Map<string, AntiTermGroup>();
  /** Terms that cannot be grouped (namespaceSelector). */
  unindexed = 0;

  /** Adds (or removes) a pod's terms under its node's labels; relabel: only the label-dependent part (the pod stays). */
  account(pi: PodInfo, labels: Record<string, string> | undefined, sign: 1 | -1, relabel = false): void {
    for (const t of pi.requiredAntiAffinity) {
      if (t.matchKey === undefined) {
        if (!relabel) this.unindexed += sign;
        continue;
      }
      const v = labels?.[t.topologyKey];
      if (v === undefined) continue;
      const k = `${t.matchKey}\u0000${t.topologyKey}`;
      let g = this.groups.get(k);
      if (!g) {
        if (sign < 0) continue;
        this.groups.set(k, (g = { term: t, topologyKey: t.topologyKey, counts: new Map(), total: 0 }));
      }
      const n = (g.counts.get(v) ?? 0) + sign;
      if (n <= 0) g.counts.delete(v);
      else g.counts.set(v, n);
      g.total += sign;
      if (g.total <= 0) this.groups.delete(k);
    }
  }
}
