import type { AnyPlugin, CycleState, Handle, StateData } from '../../interface.js';
import { compileLabelSelector, type Matcher } from '../../labels.js';
import type { NodeInfo } from '../../nodeinfo.js';
import type { PodInfo } from '../../podinfo.js';
import { Status } from '../../status.js';
import { MAX_NODE_SCORE, type Node, type Pod, type TopologySpreadConstraint } from '../../types.js';
import { podMatchesNodeAffinity } from '../nodeaffinity/nodeaffinity.js';
import { findUntoleratedTaint } from '../helper/taints.js';
import type { CountSpec } from '../../topocount.js';

export const ERR_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";
const HOSTNAME = 'kubernetes.io/hostname';

export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Matcher;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
  /** Identifies the selector (with matchLabelKeys applied) for shared count indexes; absent for default constraints. */
  selectorKey?: string;
}

export interface PodTopologySpreadArgs {
  defaultingType?: 'System' | 'List';
  defaultConstraints?: TopologySpreadConstraint[];
}

/** Upstream's system defaults: spread over hosts (skew 3) and zones (skew 5), both soft. */
export const SYSTEM_DEFAULT_CONSTRAINTS: TopologySpreadConstraint[] = [
  { maxSkew: 3, topologyKey: HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway' },
  { maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
];

function compile(pi: PodInfo, cs: TopologySpreadConstraint[], want: string, defaultSelector?: Matcher): Constraint[] {
  const labels = pi.pod.metadata?.labels ?? {};
  const out: Constraint[] = [];
  for (const c of cs) {
    if (c.whenUnsatisfiable !== want) continue;
    let selector = defaultSelector ?? compileLabelSelector(c.labelSelector);
    const keys = (c.matchLabelKeys ?? []).filter((k) => k in labels);
    if (keys.length && !defaultSelector) {
      const base = selector;
      selector = (l) => base(l) && !!l && keys.every((k) => l[k] === labels[k]);
    }
    const selectorKey = defaultSelector ? undefined : JSON.stringify([c.labelSelector ?? null, keys.map((k) => [k, labels[k]])]);
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
      selectorKey,
    });
  }
  return out;
}

function hasAllKeys(node: Node | undefined, cs: Constraint[]): boolean {
  const l = node?.metadata?.labels;
  if (!l) return cs.length === 0;
  for (const c of cs) if (!(c.topologyKey in l)) return false;
  return true;
}

/** Whether a node counts for the constraint's domains (nodeAffinityPolicy / nodeTaintsPolicy). */
function nodeCounts(c: Constraint, pi: PodInfo, node: Node): boolean {
  if (c.honorAffinity && !podMatchesNodeAffinity(pi, node)) return false;
  if (c.honorTaints && findUntoleratedTaint(node.spec?.taints, pi.pod.spec?.tolerations, (e) => e === 'NoSchedule' || e === 'NoExecute')) return false;
  return true;
}

function countMatching(ni: NodeInfo, sel: Matcher, ns: string): number {
  let n = 0;
  for (const p of ni.pods) {
    const m = p.pod.metadata;
    if (m?.namespace !== ns || m.deletionTimestamp) continue;
    if (sel(m.labels)) n++;
  }
  return n;
}

/**
 * What the cache's count index needs to serve constraint i of a pod: two pods with the same key
 * count the same pods on the same nodes.
 */
export function countSpec(pi: PodInfo, cs: Constraint[], i: number): CountSpec | undefined {
  const c = cs[i];
  if (c.selectorKey === undefined) return undefined;
  const ns = pi.pod.metadata?.namespace ?? 'default';
  const spec = pi.pod.spec;
  const aff = c.honorAffinity ? JSON.stringify([spec?.nodeSelector ?? null, spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? null]) : '';
  const tol = c.honorTaints ? JSON.stringify(spec?.tolerations ?? []) : '';
  const allKeys = cs.map((x) => x.topologyKey).join('\u0000');
  return {
    key: `pts\u0001${ns}\u0001${c.selectorKey}\u0001${c.topologyKey}\u0001${allKeys}\u0001${aff}\u0001${tol}`,
    topologyKey: c.topologyKey,
    matches: (p) => p.pod.metadata?.namespace === ns && c.selector(p.pod.metadata?.labels),
    eligible: (node) => hasAllKeys(node, cs) && nodeCounts(c, pi, node),
  };
}

/** PreFilter's counts the naive way: every pod on every eligible node (default constraints, tests). */
export function naiveCounts(pi: PodInfo, cs: Constraint[], nodes: NodeInfo[]): Map<string, number>[] {
  const ns = pi.pod.metadata?.namespace ?? 'default';
  const counts = cs.map(() => new Map<string, number>());
  for (const ni of nodes) {
    const node = ni.node;
    if (!node || !hasAllKeys(node, cs)) continue;
    const labels = node.metadata!.labels!;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      if (!nodeCounts(c, pi, node)) continue;
      const v = labels[c.topologyKey];
      counts[i].set(v, (counts[i].get(v) ?? 0) + countMatching(ni, c.selector, ns));
    }
  }
  return counts;
}

class PreFilterState implements StateData {
  private mins: (number | undefined)[];
  /** Whether counts[i] is this state's own; shared maps (the cache's index, a clone's source) are copied before a change. */
  private owned: boolean[];
  /** Per constraint: 1 when the incoming pod matches its own selector (it counts in the domain it joins). */
  self: number[] = [];
  constructor(
    readonly constraints: Constraint[],
    /** Per constraint: topology value → matching pods. */
    readonly counts: ReadonlyMap<string, number>[],
    owned = false,
  ) {
    this.mins = constraints.map(() => undefined);
    this.owned = constraints.map(() => owned);
  }
  /** The global minimum of matching pods over eligible domains; 0 while fewer domains than minDomains exist. */
  minMatch(i: number): number {
    const m = this.counts[i];
    if (m.size < this.constraints[i].minDomains) return 0;
    let v = this.mins[i];
    if (v === undefined) {
      v = Infinity;
      for (const x of m.values()) if (x < v) v = x;
      this.mins[i] = v;
    }
    return v;
  }
  bump(i: number, value: string, by: number): void {
    if (!this.counts[i].has(value)) return;
    if (!this.owned[i]) {
      this.counts[i] = new Map(this.counts[i]);
      this.owned[i] = true;
    }
    const m = this.counts[i] as Map<string, number>;
    m.set(value, m.get(value)! + by);
    this.mins[i] = undefined;
  }
  clone() {
    // Copy-on-write: both sides share the maps until one of them changes.
    this.owned.fill(false);
    const c = new PreFilterState(this.constraints, [...this.counts]);
    c.mins = [...this.mins];
    c.self = this.self;
    return c;
  }
}

class ScoreState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    readonly ignored: Set<string>,
    readonly pairCounts: Map<string, number>[],
    readonly weights: number[],
  ) {}
  clone() {
    return this;
  }
}

const PRE_FILTER = 'PreFilterPodTopologySpread';
const PRE_SCORE = 'PreScorePodTopologySpread';

/**
 * Spreads pods over topology domains within maxSkew, as upstream's PodTopologySpread: hard
 * (DoNotSchedule) constraints filter, soft ones (and the system defaults, for pods owned by a
 * Service/ReplicaSet/StatefulSet) score.
 */
export function newPodTopologySpread(args: PodTopologySpreadArgs, h: Handle): AnyPlugin {
  const systemDefaulted = (args.defaultingType ?? 'System') === 'System';
  const defaults = systemDefaulted ? SYSTEM_DEFAULT_CONSTRAINTS : args.defaultConstraints ?? [];
  const constraintsFor = (pi: PodInfo, want: string): Constraint[] => {
    const own = pi.pod.spec?.topologySpreadConstraints ?? [];
    if (own.length) return compile(pi, own, want);
    if (!defaults.some((c) => c.whenUnsatisfiable === want) || !h.selectorsFor) return [];
    const sels = h.selectorsFor(pi.pod);
    if (!sels.length) return [];
    const sel: Matcher = (l) => sels.every((m) => m(l));
    return compile(pi, defaults, want, sel);
  };
  return {
    name: 'PodTopologySpread',
    preFilter(s: CycleState, pi) {
      const cs = constraintsFor(pi, 'DoNotSchedule');
      if (!cs.length) return { status: Status.skip() };
      const snap = h.snapshot();
      const specs = snap.topologyCounts ? cs.map((_, i) => countSpec(pi, cs, i)) : [];
      let st: PreFilterState;
      if (snap.topologyCounts && specs.every((x) => x !== undefined)) st = new PreFilterState(cs, specs.map((x) => snap.topologyCounts!(x!)));
      else st = new PreFilterState(cs, naiveCounts(pi, cs, snap.nodes()), true);
      const own = pi.pod.metadata?.labels;
      st.self = cs.map((c) => (c.selector(own) ? 1 : 0));
      s.write(PRE_FILTER, st);
      return { status: null };
    },
    addPod(s, pi, add, ni) {
      return update(s, pi, add, ni, 1);
    },
    removePod(s, pi, rm, ni) {
      return update(s, pi, rm, ni, -1);
    },
    filter(s, pi, ni) {
      const st = s.read<PreFilterState>(PRE_FILTER);
      if (!st) return null;
      const labels = ni.node?.metadata?.labels ?? {};
      for (let i = 0; i < st.constraints.length; i++) {
        const c = st.constraints[i];
        const v = labels[c.topologyKey];
        if (v === undefined) return Status.unresolvable(ERR_MISSING_LABEL);
        const skew = (st.counts[i].get(v) ?? 0) + st.self[i] - st.minMatch(i);
        if (skew > c.maxSkew) return Status.unschedulable(ERR_CONSTRAINTS_NOT_MATCH);
      }
      return null;
    },
    preScore(s, pi, nodes) {
      const cs = constraintsFor(pi, 'ScheduleAnyway');
      if (!cs.length) return Status.skip();
      const requireAll = (pi.pod.spec?.topologySpreadConstraints ?? []).length > 0 || !systemDefaulted;
      const ignored = new Set<string>();
      const pairCounts = cs.map(() => new Map<string, number>());
      for (const ni of nodes) {
        const node = ni.node!;
        if (requireAll && !hasAllKeys(node, cs)) {
          ignored.add(ni.name);
          continue;
        }
        const labels = node.metadata?.labels ?? {};
        cs.forEach((c, i) => {
          if (c.topologyKey === HOSTNAME) return;
          const v = labels[c.topologyKey];
          if (v !== undefined && !pairCounts[i].has(v)) pairCounts[i].set(v, 0);
        });
      }
      const weights = cs.map((c, i) => Math.log((c.topologyKey === HOSTNAME ? nodes.length - ignored.size : pairCounts[i].size) + 2));
      const ns = pi.pod.metadata?.namespace ?? 'default';
      if (cs.some((c) => c.topologyKey !== HOSTNAME)) {
        for (const ni of h.snapshot().nodes()) {
          const node = ni.node;
          if (!node || (requireAll && !hasAllKeys(node, cs))) continue;
          const labels = node.metadata?.labels ?? {};
          cs.forEach((c, i) => {
            if (c.topologyKey === HOSTNAME || !nodeCounts(c, pi, node)) return;
            const v = labels[c.topologyKey];
            const cur = v === undefined ? undefined : pairCounts[i].get(v);
            if (cur === undefined) return;
            pairCounts[i].set(v, cur + countMatching(ni, c.selector, ns));
          });
        }
      }
      s.write(PRE_SCORE, new ScoreState(cs, ignored, pairCounts, weights));
      return null;
    },
    score(s, pi, ni) {
      const st = s.read<ScoreState>(PRE_SCORE);
      if (!st || st.ignored.has(ni.name)) return 0;
      const labels = ni.node?.metadata?.labels ?? {};
      const ns = pi.pod.metadata?.namespace ?? 'default';
      let score = 0;
      st.constraints.forEach((c, i) => {
        const v = labels[c.topologyKey];
        if (v === undefined) return;
        const cnt = c.topologyKey === HOSTNAME ? countMatching(ni, c.selector, ns) : st.pairCounts[i].get(v) ?? 0;
        score += cnt * st.weights[i] + (c.maxSkew - 1);
      });
      return Math.round(score);
    },
    normalize(s, _pi, scores, nodes) {
      const st = s.read<ScoreState>(PRE_SCORE);
      if (!st) return;
      const ignoredIdx = nodes.map((n) => st.ignored.has(n.name));
      let min = Infinity;
      let max = 0;
      scores.forEach((x, i) => {
        if (ignoredIdx[i]) return;
        if (x < min) min = x;
        if (x > max) max = x;
      });
      for (let i = 0; i < scores.length; i++) {
        if (ignoredIdx[i]) scores[i] = 0;
        else if (max === 0) scores[i] = MAX_NODE_SCORE;
        else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i])) / max);
      }
    },
    events: () => [
      {
        resource: 'AssignedPod',
        actions: '*',
        // As upstream's isSchedulableAfterPodChange: only pods of the namespace that some constraint selects (or selected).
        hint: (pi, oldPod: Pod | undefined, newPod: Pod | undefined) => {
          const ns = pi.pod.metadata?.namespace;
          if ((newPod && newPod.metadata?.namespace !== ns) || (oldPod && oldPod.metadata?.namespace !== ns)) return 'QueueSkip';
          const cs = constraintsFor(pi, 'DoNotSchedule');
          if (oldPod && newPod) {
            if (JSON.stringify(oldPod.metadata?.labels ?? {}) === JSON.stringify(newPod.metadata?.labels ?? {}) && !!oldPod.metadata?.deletionTimestamp === !!newPod.metadata?.deletionTimestamp) return 'QueueSkip';
            return cs.some((c) => c.selector(oldPod.metadata?.labels) || c.selector(newPod.metadata?.labels)) ? 'Queue' : 'QueueSkip';
          }
          const p = (newPod ?? oldPod)!;
          return cs.some((c) => c.selector(p.metadata?.labels)) ? 'Queue' : 'QueueSkip';
        },
      },
      {
        resource: 'Node',
        actions: ['Add', 'Delete', 'UpdateNodeLabel', 'UpdateNodeTaint'],
        // As upstream's isSchedulableAfterNodeChange: only a node (added, changed or deleted) that has every topology key.
        hint: (pi, oldNode: Node | undefined, newNode: Node | undefined) => (hasAllKeys(newNode ?? oldNode, constraintsFor(pi, 'DoNotSchedule')) ? 'Queue' : 'QueueSkip'),
      },
    ],
  };

  function update(s: CycleState, pi: PodInfo, other: PodInfo, ni: NodeInfo, by: number) {
    const st = s.read<PreFilterState>(PRE_FILTER);
    if (!st || other.pod.metadata?.namespace !== pi.pod.metadata?.namespace) return null;
    const node = ni.node;
    if (!node || !hasAllKeys(node, st.constraints)) return null;
    st.constraints.forEach((c, i) => {
      if (!nodeCounts(c, pi, node) || !c.selector(other.pod.metadata?.labels)) return;
      st.bump(i, node.metadata!.labels![c.topologyKey], by);
    });
    return null;
  }
}

