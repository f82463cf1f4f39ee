import type { AnyPlugin, CycleState, Handle, StateData } from '../../interface.js';
import type { Labels } from '../../labels.js';
import type { NodeInfo } from '../../nodeinfo.js';
import { newPodInfo, termMatches, type AffinityTerm, type PodInfo } from '../../podinfo.js';
import { Status } from '../../status.js';
import { MAX_NODE_SCORE, type Pod } from '../../types.js';
import { countByTopology, type CountSpec } from '../../topocount.js';

export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** topologyKey → value → count; zero counts are dropped. */
class Counts {
  readonly byKey = new Map<string, Map<string, number>>();
  bump(key: string, value: string, by: number): void {
    let m = this.byKey.get(key);
    if (!m) this.byKey.set(key, (m = new Map()));
    const n = (m.get(value) ?? 0) + by;
    if (n === 0) {
      m.delete(value);
      if (!m.size) this.byKey.delete(key);
    } else m.set(value, n);
  }
  at(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }
  get size(): number {
    return this.byKey.size;
  }
  *values(): IterableIterator<number> {
    for (const m of this.byKey.values()) yield* m.values();
  }
  copy(): Counts {
    const c = new Counts();
    for (const [k, m] of this.byKey) c.byKey.set(k, new Map(m));
    return c;
  }
}

/**
 * (topologyKey, value) → count as a sum of per-term base maps (value → count, possibly the cache's
 * shared indexes: never changed here) and a delta that AddPod/RemovePod change.
 */
class TermCounts {
  private total: number | undefined;
  constructor(
    private readonly base: { key: string; m: ReadonlyMap<string, number> }[],
    private readonly delta = new Counts(),
  ) {}
  at(key: string, value: string): number {
    let n = this.delta.at(key, value);
    for (const b of this.base) if (b.key === key) n += b.m.get(value) ?? 0;
    return n;
  }
  bump(key: string, value: string, by: number): void {
    this.delta.bump(key, value, by);
    this.total = undefined;
  }
  /** True when no pod is counted anywhere. */
  empty(): boolean {
    if (this.total === undefined) {
      let t = 0;
      for (const b of this.base) for (const x of b.m.values()) t += x;
      for (const x of this.delta.values()) t += x;
      this.total = t;
    }
    return this.total <= 0;
  }
  /** Topology keys with any count (from the bases or the delta). */
  keys(): Iterable<string> {
    if (!this.delta.size) return this.baseKeys();
    const ks = new Set(this.baseKeys());
    for (const k of this.delta.byKey.keys()) ks.add(k);
    return ks;
  }
  private baseKeysCache?: string[];
  private baseKeys(): string[] {
    return (this.baseKeysCache ??= [...new Set(this.base.map((b) => b.key))]);
  }
  copy(): TermCounts {
    return new TermCounts(this.base, this.delta.copy());
  }
}

class PreFilterState implements StateData {
  constructor(
    /** Existing pods' required anti-affinity terms that match the incoming pod. */
    readonly existingAnti: TermCounts,
    /** Pods matching all of the incoming pod's required affinity terms. */
    readonly affinity: TermCounts,
    /** Pods matching each of the incoming pod's required anti-affinity terms. */
    readonly anti: TermCounts,
    readonly nsLabels: (ns: string) => Labels,
  ) {}
  clone() {
    return new PreFilterState(this.existingAnti.copy(), this.affinity.copy(), this.anti.copy(), this.nsLabels);
  }
}

/** Count specs for the incoming pod's required affinity (pods matching all terms, per term's key) and anti-affinity (per term). */
export function termSpecs(pi: PodInfo, nsLabels: (ns: string) => Labels): { affinity: CountSpec[]; anti: CountSpec[]; indexable: boolean } {
  const aff = pi.requiredAffinity;
  const allKey = JSON.stringify(aff.map((t) => t.matchKey ?? null));
  const affinity = aff.map((t) => ({
    key: `ipa-aff\u0001${allKey}\u0001${t.topologyKey}`,
    topologyKey: t.topologyKey,
    matches: (p: PodInfo) => matchesAll(aff, p.pod, nsLabels),
    includeTerminating: true,
  }));
  const anti = pi.requiredAntiAffinity.map((t) => ({
    key: `ipa-anti\u0001${t.matchKey}\u0001${t.topologyKey}`,
    topologyKey: t.topologyKey,
    matches: (p: PodInfo) => termMatches(t, p.pod, nsLabels),
    includeTerminating: true,
  }));
  const indexable = aff.every((t) => t.matchKey !== undefined) && pi.requiredAntiAffinity.every((t) => t.matchKey !== undefined);
  return { affinity, anti, indexable };
}

const PRE_FILTER = 'PreFilterInterPodAffinity';
const PRE_SCORE = 'PreScoreInterPodAffinity';

function matchesAll(terms: AffinityTerm[], pod: Pod, ns: (n: string) => Labels): boolean {
  for (const t of terms) if (!termMatches(t, pod, ns)) return false;
  return true;
}

/** Counts one existing pod (on node ni) into the incoming pod's state, with sign ±1. */
function account(st: PreFilterState, pi: PodInfo, existing: PodInfo, ni: NodeInfo, sign: number): void {
  const labels = ni.node?.metadata?.labels;
  if (!labels) return;
  for (const t of existing.requiredAntiAffinity) {
    const v = labels[t.topologyKey];
    if (v !== undefined && termMatches(t, pi.pod, st.nsLabels)) st.existingAnti.bump(t.topologyKey, v, sign);
  }
  if (pi.requiredAffinity.length && matchesAll(pi.requiredAffinity, existing.pod, st.nsLabels)) {
    for (const t of pi.requiredAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined) st.affinity.bump(t.topologyKey, v, sign);
    }
  }
  for (const t of pi.requiredAntiAffinity) {
    const v = labels[t.topologyKey];
    if (v !== undefined && termMatches(t, existing.pod, st.nsLabels)) st.anti.bump(t.topologyKey, v, sign);
  }
}

class ScoreState implements StateData {
  constructor(readonly topo: Map<string, Map<string, number>>) {}
  clone() {
    return this;
  }
}

export interface InterPodAffinityArgs {
  hardPodAffinityWeight?: number;
  ignorePreferredTermsOfExistingPods?: boolean;
}

/**
 * Required and preferred pod (anti-)affinity over topology domains, as upstream's InterPodAffinity:
 * PreFilter counts matching pods per (topologyKey, value) once, so Filter is a few map lookups.
 */
export function newInterPodAffinity(args: InterPodAffinityArgs, h: Handle): AnyPlugin {
  const hardWeight = args.hardPodAffinityWeight ?? 1;
  const nsLabels = (ns: string) => h.namespaceLabels(ns);
  return {
    name: 'InterPodAffinity',
    preFilter(s: CycleState, pi) {
      const snap = h.snapshot();
      const withAnti = snap.withRequiredAntiAffinity();
      if (!withAnti.length && !pi.requiredAffinity.length && !pi.requiredAntiAffinity.length) return { status: Status.skip() };
      const specs = termSpecs(pi, nsLabels);
      const count = snap.topologyCounts && specs.indexable ? (x: CountSpec) => snap.topologyCounts!(x) : (x: CountSpec) => countByTopology(snap.nodes(), x);
      const groups = snap.antiAffinityGroups?.();
      let existing: TermCounts;
      if (groups) {
        // One match per group of identical terms, their per-domain counts shared from the cache.
        const base: { key: string; m: ReadonlyMap<string, number> }[] = [];
        for (const g of groups) if (termMatches(g.term, pi.pod, nsLabels)) base.push({ key: g.topologyKey, m: g.counts });
        existing = new TermCounts(base);
      } else {
        existing = new TermCounts([]);
        for (const ni of withAnti) {
          const labels = ni.node?.metadata?.labels;
          if (!labels) continue;
          for (const ex of ni.podsWithRequiredAntiAffinity) {
            for (const t of ex.requiredAntiAffinity) {
              const v = labels[t.topologyKey];
              if (v !== undefined && termMatches(t, pi.pod, nsLabels)) existing.bump(t.topologyKey, v, 1);
            }
          }
        }
      }
      const st = new PreFilterState(
        existing,
        new TermCounts(specs.affinity.map((x) => ({ key: x.topologyKey, m: count(x) }))),
        new TermCounts(specs.anti.map((x) => ({ key: x.topologyKey, m: count(x) }))),
        nsLabels,
      );
      s.write(PRE_FILTER, st);
      return { status: null };
    },
    addPod(s, pi, add, ni) {
      const st = s.read<PreFilterState>(PRE_FILTER);
      if (st) account(st, pi, add, ni, 1);
      return null;
    },
    removePod(s, pi, rm, ni) {
      const st = s.read<PreFilterState>(PRE_FILTER);
      if (st) account(st, pi, rm, ni, -1);
      return null;
    },
    filter(s, pi, ni) {
      const st = s.read<PreFilterState>(PRE_FILTER);
      if (!st) return null;
      const labels = ni.node?.metadata?.labels ?? {};
      if (pi.requiredAffinity.length) {
        let exist = true;
        for (const t of pi.requiredAffinity) {
          const v = labels[t.topologyKey];
          if (v === undefined) return Status.unresolvable(ERR_AFFINITY);
          if (st.affinity.at(t.topologyKey, v) <= 0) exist = false;
        }
        // The first pod of a group that selects itself may go anywhere its topology keys exist.
        if (!exist && !(st.affinity.empty() && matchesAll(pi.requiredAffinity, pi.pod, nsLabels))) return Status.unresolvable(ERR_AFFINITY);
      }
      for (const t of pi.requiredAntiAffinity) {
        const v = labels[t.topologyKey];
        if (v !== undefined && st.anti.at(t.topologyKey, v) > 0) return Status.unschedulable(ERR_ANTI_AFFINITY);
      }
      for (const k of st.existingAnti.keys()) {
        const v = labels[k];
        if (v !== undefined && st.existingAnti.at(k, v) > 0) return Status.unschedulable(ERR_EXISTING_ANTI_AFFINITY);
      }
      return null;
    },
    preScore(s, pi, nodes) {
      const snap = h.snapshot();
      const has = pi.preferredAffinity.length > 0 || pi.preferredAntiAffinity.length > 0;
      if (!has && args.ignorePreferredTermsOfExistingPods) return Status.skip();
      const all = has ? snap.nodes() : snap.withScoredAffinity();
      if (!all.length || !nodes.length) return Status.skip();
      const topo = new Map<string, Map<string, number>>();
      const add = (t: AffinityTerm, pod: Pod, labels: Record<string, string>, w: number) => {
        const v = labels[t.topologyKey];
        if (v === undefined || !termMatches(t, pod, nsLabels)) return;
        let m = topo.get(t.topologyKey);
        if (!m) topo.set(t.topologyKey, (m = new Map()));
        m.set(v, (m.get(v) ?? 0) + w);
      };
      for (const ni of all) {
        const labels = ni.node?.metadata?.labels;
        if (!labels) continue;
        for (const ex of has ? ni.pods : ni.podsWithScoredAffinity) {
          for (const t of pi.preferredAffinity) add(t, ex.pod, labels, t.weight);
          for (const t of pi.preferredAntiAffinity) add(t, ex.pod, labels, -t.weight);
          if (hardWeight > 0) for (const t of ex.requiredAffinity) add(t, pi.pod, labels, hardWeight);
          for (const t of ex.preferredAffinity) add(t, pi.pod, labels, t.weight);
          for (const t of ex.preferredAntiAffinity) add(t, pi.pod, labels, -t.weight);
        }
      }
      s.write(PRE_SCORE, new ScoreState(topo));
      return null;
    },
    score(s, _pi, ni) {
      const st = s.read<ScoreState>(PRE_SCORE);
      const labels = ni.node?.metadata?.labels;
      if (!st || !labels) return 0;
      let score = 0;
      for (const [k, m] of st.topo) {
        const v = labels[k];
        if (v !== undefined) score += m.get(v) ?? 0;
      }
      return score;
    },
    normalize(s, _pi, scores) {
      if (!s.read<ScoreState>(PRE_SCORE)) return;
      let min = Infinity;
      let max = -Infinity;
      for (const x of scores) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
      const diff = max - min;
      for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((scores[i] - min) / diff)) : 0;
    },
    events: () => [
      { resource: 'AssignedPod', actions: '*', hint: (pi, oldPod, newPod) => afterPodEvent(pi, oldPod, newPod, nsLabels) },
      { resource: 'Node', actions: ['Add', 'UpdateNodeLabel'] },
    ],
  };
}

/** A non-empty term list that the pod matches entirely (upstream's podMatchesAllAffinityTerms). */
function matchesAllTerms(terms: AffinityTerm[], pod: Pod, ns: (n: string) => Labels): boolean {
  return terms.length > 0 && matchesAll(terms, pod, ns);
}

/**
 * QueueingHint for assigned pods, as upstream's isSchedulableAfterPodChange: a pod that now matches
 * the incoming pod's required affinity (added or relabelled), or that no longer matches its
 * anti-affinity (relabelled or deleted); a deleted pod whose own anti-affinity kept the pod out.
 */
export function afterPodEvent(pi: PodInfo, oldPod: Pod | undefined, newPod: Pod | undefined, ns: (n: string) => Labels): 'Queue' | 'QueueSkip' {
  if ((newPod && !newPod.spec?.nodeName) || (oldPod && !oldPod.spec?.nodeName)) return 'QueueSkip';
  const aff = pi.requiredAffinity;
  const anti = pi.requiredAntiAffinity;
  if (oldPod && newPod) {
    if (!matchesAllTerms(aff, oldPod, ns) && matchesAllTerms(aff, newPod, ns)) return 'Queue';
    if (anti.some((t) => termMatches(t, oldPod, ns)) && !anti.some((t) => termMatches(t, newPod, ns))) return 'Queue';
    return 'QueueSkip';
  }
  if (newPod) return matchesAllTerms(aff, newPod, ns) ? 'Queue' : 'QueueSkip';
  if (!oldPod) return 'Queue';
  if (anti.some((t) => termMatches(t, oldPod, ns))) return 'Queue';
  const theirs = newPodInfo(oldPod).requiredAntiAffinity;
  return theirs.some((t) => termMatches(t, pi.pod, ns)) ? 'Queue' : 'QueueSkip';
}
