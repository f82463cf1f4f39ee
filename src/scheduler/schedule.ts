import type { Framework } from './framework.js';
import type { CycleState, Snapshot } from './interface.js';
import type { NodeInfo } from './nodeinfo.js';
import type { PodInfo } from './podinfo.js';
import { Code, histogramOf, NodeStatuses, reasonHistogram, Status } from './status.js';
import { ownNomination, podClass } from './memo.js';

export const ERR_NO_NODES = 'no nodes available to schedule pods';
const MIN_FEASIBLE_NODES = 100;
const MIN_FEASIBLE_PERCENTAGE = 5;

/** Why a pod fits nowhere, formatted as upstream's FitError. */
export class FitError {
  postFilterMsg = '';
  constructor(
    readonly numAllNodes: number,
    readonly statuses: NodeStatuses,
    readonly unschedulablePlugins: Set<string>,
    readonly preFilterMsg = '',
    /** The statuses' reason histogram, when the caller already has it. */
    private readonly histogram?: string[],
  ) {}

  /** "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {a: b}. preemption: …" */
  message(): string {
    let msg = `0/${this.numAllNodes} nodes are available:`;
    if (this.preFilterMsg) msg += ` ${this.preFilterMsg}.`;
    else {
      const parts = this.histogram ?? reasonHistogram(this.statuses.values());
      if (parts.length) msg += ` ${parts.join(', ')}.`;
    }
    if (this.postFilterMsg) msg += ` ${this.postFilterMsg}`;
    return msg;
  }
}

/** How many feasible nodes to look for before scoring, as upstream's numFeasibleNodesToFind. */
export function numFeasibleNodesToFind(percentage: number, numAll: number): number {
  if (numAll < MIN_FEASIBLE_NODES) return numAll;
  let pct = percentage;
  if (pct <= 0) {
    pct = 50 - Math.trunc(numAll / 125);
    if (pct < MIN_FEASIBLE_PERCENTAGE) pct = MIN_FEASIBLE_PERCENTAGE;
  }
  const n = Math.trunc((numAll * pct) / 100);
  return n < MIN_FEASIBLE_NODES ? MIN_FEASIBLE_NODES : n;
}

export interface CycleContext {
  fwk: Framework;
  snap: Snapshot;
  /** Where the next search for feasible nodes starts, so successive pods look at different nodes. */
  nextStartNodeIndex: number;
  rand: () => number;
  /** The last scan that found no node, per pod class (see rescan). */
  failedScans?: Map<number, FailedScan>;
}

/**
 * A scan of every node that found none feasible, for one pod class: each node's status and the
 * node state it was computed on (generation, nominated pods), in snapshot order.
 */
interface FailedScan {
  nodes: NodeInfo[];
  generations: number[];
  nominated: PodInfo[][];
  statuses: Status[];
  names: string[];
  /** How many nodes have each status object (for the message, without a pass over every node). */
  counts: Map<Status, number>;
}

const MAX_FAILED_SCANS = 8;

/**
 * Re-checks a failed scan for a pod of the same class: only nodes that changed since are filtered
 * again (the rest would give the memoized answer anyway: NodeMemo's rule). A pod waiting for its
 * preemption victims is retried on every pod deletion in the cluster, and each retry would
 * otherwise walk every node. Returns undefined (scan normally) when a node fits now or the node
 * set changed.
 */
function rescan(ctx: CycleContext, cls: number, own: NodeInfo | undefined, state: CycleState, pi: PodInfo, all: NodeInfo[]): { statuses: NodeStatuses; plugins: Set<string>; histogram: string[] } | undefined {
  const scan = ctx.failedScans?.get(cls);
  if (!scan || scan.nodes !== all) return undefined;
  const { fwk } = ctx;
  const handle = fwk.handle;
  const list = scan.statuses.slice();
  for (let i = 0; i < all.length; i++) {
    const ni = all[i];
    const nominated = handle.nominatedPodsOn ? handle.nominatedPodsOn(ni) : handle.nominatedPodsFor(ni.name);
    const was = scan.nominated[i];
    if (ni !== own && ni.generation === scan.generations[i] && (nominated === was || (!nominated.length && !was.length))) continue;
    const st = fwk.runFilterMemo(cls, own, state, pi, ni);
    if (!st || !st.isRejected) {
      // The counts already moved for earlier nodes: start the memo over.
      ctx.failedScans!.delete(cls);
      return undefined;
    }
    const old = list[i];
    if (old !== st) {
      const c = scan.counts.get(old)! - 1;
      if (c > 0) scan.counts.set(old, c);
      else scan.counts.delete(old);
      scan.counts.set(st, (scan.counts.get(st) ?? 0) + 1);
    }
    list[i] = st;
    // The pod's own nomination makes its node's answer its own: the next pod must look again.
    scan.generations[i] = ni === own ? -1 : ni.generation;
    scan.nominated[i] = nominated;
  }
  scan.statuses = list;
  const statuses = NodeStatuses.fromArrays(scan.names, list);
  const plugins = new Set<string>();
  for (const st of scan.counts.keys()) if (st.plugin) plugins.add(st.plugin);
  return { statuses, plugins, histogram: histogramOf(scan.counts) };
}

function rememberFailedScan(ctx: CycleContext, cls: number, own: NodeInfo | undefined, all: NodeInfo[], statuses: NodeStatuses): void {
  const scans = (ctx.failedScans ??= new Map());
  const handle = ctx.fwk.handle;
  const byName = new Map<string, Status>();
  statuses.forEach((st, name) => byName.set(name, st));
  const scan: FailedScan = { nodes: all, generations: [], nominated: [], statuses: [], names: [], counts: new Map() };
  for (const ni of all) {
    const st = byName.get(ni.name);
    if (!st) return;
    scan.generations.push(ni === own ? -1 : ni.generation);
    scan.nominated.push(handle.nominatedPodsOn ? handle.nominatedPodsOn(ni) : handle.nominatedPodsFor(ni.name));
    scan.statuses.push(st);
    scan.names.push(ni.name);
    scan.counts.set(st, (scan.counts.get(st) ?? 0) + 1);
  }
  scans.delete(cls);
  scans.set(cls, scan);
  if (scans.size > MAX_FAILED_SCANS) scans.delete(scans.keys().next().value!);
}

export type ScheduleResult =
  | { kind: 'scheduled'; node: string; evaluated: number; feasible: number }
  | { kind: 'unschedulable'; fitError: FitError }
  | { kind: 'error'; message: string };

/**
 * One scheduling cycle's decision, as upstream's schedulePod: PreFilter, Filter until enough
 * feasible nodes are found (starting where the last pod stopped), PreScore, Score, and pick the
 * best (ties broken at random). Pure apart from ctx.nextStartNodeIndex and the cycle state.
 */
export function schedulePod(ctx: CycleContext, state: CycleState, pi: PodInfo): ScheduleResult {
  const { fwk, snap } = ctx;
  const all = snap.nodes();
  if (!all.length) return { kind: 'error', message: ERR_NO_NODES };

  const pre = fwk.runPreFilter(state, pi, all);
  if (pre.status) {
    if (!pre.status.isRejected) return { kind: 'error', message: pre.status.message };
    const statuses = new NodeStatuses();
    for (const ni of all) statuses.set(ni.name, pre.status);
    return { kind: 'unschedulable', fitError: new FitError(all.length, statuses, new Set([pre.status.plugin]), pre.status.message) };
  }

  const statuses = new NodeStatuses();
  const plugins = new Set<string>();
  let nodes = all;
  if (pre.nodeNames) {
    nodes = [];
    for (const name of pre.nodeNames) {
      const ni = snap.get(name);
      if (ni) nodes.push(ni);
    }
    // Nodes PreFilter ruled out count as rejected by it in the message.
    const absent = Status.unresolvable(`node(s) didn't satisfy plugin(s) [${pre.restrictedBy.join(' ')}]`);
    for (const ni of all) if (!pre.nodeNames.has(ni.name)) statuses.set(ni.name, absent);
  }

  let feasible: NodeInfo[] = [];
  // A pod nominated by an earlier preemption tries that node first (the nominator knows before
  // the pod's status catches up).
  const nominated = pi.pod.status?.nominatedNodeName || fwk.handle.nominatedNodeOf?.(pi.uid);
  if (nominated) {
    const ni = snap.get(nominated);
    if (ni && (!pre.nodeNames || pre.nodeNames.has(nominated)) && !fwk.runFilterWithNominated(state, pi, ni)) feasible = [ni];
  }
  let evaluated = feasible.length;
  if (!feasible.length) {
    const want = fwk.filter.length ? numFeasibleNodesToFind(fwk.percentageOfNodesToScore, nodes.length) : nodes.length;
    const n = nodes.length;
    const start = pre.nodeNames ? 0 : ctx.nextStartNodeIndex % n;
    const cls = podClass(state, pi);
    const own = cls === undefined ? undefined : ownNomination(fwk.handle, pi);
    if (cls !== undefined && !pre.nodeNames && fwk.filter.length) {
      const again = rescan(ctx, cls, own, state, pi, nodes);
      if (again) return { kind: 'unschedulable', fitError: new FitError(all.length, again.statuses, again.plugins, '', again.histogram) };
    }
    let processed = 0;
    let lastPlugin = '';
    for (; processed < n && feasible.length < want; processed++) {
      const ni = nodes[(start + processed) % n];
      const s = fwk.runFilterMemo(cls, own, state, pi, ni);
      if (!s) feasible.push(ni);
      else if (s.isRejected) {
        statuses.set(ni.name, s);
        // Thousands of nodes usually fail on the same plugin.
        if (s.plugin && s.plugin !== lastPlugin) plugins.add((lastPlugin = s.plugin));
      } else return { kind: 'error', message: s.message };
    }
    if (!pre.nodeNames) ctx.nextStartNodeIndex = (start + processed) % n;
    evaluated = processed;
    if (!feasible.length && cls !== undefined && !pre.nodeNames && fwk.filter.length) rememberFailedScan(ctx, cls, own, nodes, statuses);
  }
  if (!feasible.length) return { kind: 'unschedulable', fitError: new FitError(all.length, statuses, plugins) };
  if (feasible.length === 1) return { kind: 'scheduled', node: feasible[0].name, evaluated, feasible: 1 };

  const ps = fwk.runPreScore(state, pi, feasible);
  if (ps) return { kind: 'error', message: ps.message };
  const scores = fwk.runScore(state, pi, feasible);
  return { kind: 'scheduled', node: selectHost(feasible, scores, ctx.rand), evaluated, feasible: feasible.length };
}

/** The highest-scoring node; ties broken uniformly at random (reservoir sampling), as upstream. */
export function selectHost(nodes: NodeInfo[], scores: Float64Array, rand: () => number): string {
  let best = 0;
  let ties = 1;
  for (let i = 1; i < nodes.length; i++) {
    if (scores[i] > scores[best]) {
      best = i;
      ties = 1;
    } else if (scores[i] === scores[best]) {
      ties++;
      if (Math.floor(rand() * ties) === 0) best = i;
    }
  }
  return nodes[best].name;
}

export { Code };
