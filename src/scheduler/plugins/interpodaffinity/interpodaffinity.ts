import type { AnyPlugin, CycleState, Handle, StateData } from '../../interface.js';
import type { Labels } from '../../labels.js';
import type { NodeInfo } from '../../nodeinfo.js';
import { termMatches, type AffinityTerm, type PodInfo } from '../../podinfo.js';
import { Status } from '../../status.js';
import { MAX_NODE_SCORE, type Pod } from '../../types.js';

export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** (topologyKey, value) → count. */
class Counts extends Map<string, number> {
  bump(key: string, value: string, by: number): void {
    const k = `${key}\u0000${value}`;
    const n = (this.get(k) ?? 0) + by;
    if (n === 0) this.delete(k);
    else this.set(k, n);
  }
  at(key: string, value: string): number {
    return this.get(`${key}\u0000${value}`) ?? 0;
  }
  copy(): Counts {
    const c = new Counts();
    for (const [k, v] of this) c.set(k, v);
    return c;
  }
}

class PreFilterState implements StateData {
  constructor(
    /** Existing pods' required anti-affinity terms that match the incoming pod. */
    readonly existingAnti: Counts,
    /** Pods matching all of the incoming pod's required affinity terms. */
    readonly affinity: Counts,
    /** Pods matching each of the incoming pod's required anti-affinity terms. */
    readonly anti: Counts,
    readonly nsLabels: (ns: string) => Labels,
  ) {}
  clone() {
    return new PreFilterState(this.existingAnti.copy(), this.affinity.copy(), this.anti.copy(), this.nsLabels);
  }
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
      const st = new PreFilterState(new Counts(), new Counts(), new Counts(), nsLabels);
      for (const ni of withAnti) {
        const labels = ni.node?.metadata?.labels;
        if (!labels) continue;
        for (const ex of ni.podsWithRequiredAntiAffinity) {
          for (const t of ex.requiredAntiAffinity) {
            const v = labels[t.topologyKey];
            if (v !== undefined && termMatches(t, pi.pod, nsLabels)) st.existingAnti.bump(t.topologyKey, v, 1);
          }
        }
      }
      if (pi.requiredAffinity.length || pi.requiredAntiAffinity.length) {
        for (const ni of snap.nodes()) {
          const labels = ni.node?.metadata?.labels;
          if (!labels) continue;
          for (const ex of ni.pods) {
            if (pi.requiredAffinity.length && matchesAll(pi.requiredAffinity, ex.pod, nsLabels)) {
              for (const t of pi.requiredAffinity) {
                const v = labels[t.topologyKey];
                if (v !== undefined) st.affinity.bump(t.topologyKey, v, 1);
              }
            }
            for (const t of pi.requiredAntiAffinity) {
              const v = labels[t.topologyKey];
              if (v !== undefined && termMatches(t, ex.pod, nsLabels)) st.anti.bump(t.topologyKey, v, 1);
            }
          }
        }
      }
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
        if (!exist && !(st.affinity.size === 0 && matchesAll(pi.requiredAffinity, pi.pod, nsLabels))) return Status.unresolvable(ERR_AFFINITY);
      }
      for (const t of pi.requiredAntiAffinity) {
        const v = labels[t.topologyKey];
        if (v !== undefined && st.anti.at(t.topologyKey, v) > 0) return Status.unschedulable(ERR_ANTI_AFFINITY);
      }
      if (st.existingAnti.size) {
        for (const k in labels) if (st.existingAnti.at(k, labels[k]) > 0) return Status.unschedulable(ERR_EXISTING_ANTI_AFFINITY);
      }
      return null;
    },
    preScore(s, pi, nodes) {
      const snap = h.snapshot();
      const has = pi.preferredAffinity.length > 0 || pi.preferredAntiAffinity.length > 0;
      if (!has && args.ignorePreferredTermsOfExistingPods) return Status.skip();
      const all = has ? snap.nodes() : snap.withAffinity();
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
        for (const ex of has ? ni.pods : ni.podsWithAffinity) {
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
      { resource: 'AssignedPod', actions: '*' },
      { resource: 'Node', actions: ['Add', 'UpdateNodeLabel'] },
    ],
  };
}
