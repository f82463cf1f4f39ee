import type { AnyPlugin, CycleState, Handle } from '../../interface.js';
import { NodeMemo, ownNomination, podClass } from '../../memo.js';
import { compileLabelSelector, isEmptySelector } from '../../labels.js';
import type { NodeInfo } from '../../nodeinfo.js';
import type { PodInfo } from '../../podinfo.js';
import { Code, NodeStatuses, reasonHistogram, Status, type MaybeStatus, type NodeStatusReader } from '../../status.js';
import type { Pod } from '../../types.js';

export const MSG_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const MSG_NO_VICTIMS = 'No preemption victims found for incoming pod';
export const MSG_PREEMPTING = 'waiting for the preemption for this pod to be finished';

export interface PreemptionArgs {
  minCandidateNodesPercentage?: number;
  minCandidateNodesAbsolute?: number;
}

export interface Candidate {
  node: string;
  victims: PodInfo[];
  numPDBViolations: number;
  /** candidateKeys, computed once (dry runs are remembered per node, and so are their keys). */
  keys?: number[];
}

/** When the pod started (else was created), parsed once per PodInfo: victim sorting asks often. */
function startTime(pi: PodInfo): number {
  let v = pi.startMs;
  if (v === undefined) {
    const t = pi.pod.status?.startTime ?? pi.pod.metadata?.creationTimestamp;
    pi.startMs = v = t ? Date.parse(t) : 0;
  }
  return v;
}

/** Higher priority first; among equals the one that started first, as upstream's MoreImportantPod. */
export function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return startTime(a) - startTime(b);
}

/** A node's dry run: the victims (read-only, shared with candidates), PDB violations, or why none. */
export interface DryRun {
  victims: PodInfo[];
  violations: number;
  status: MaybeStatus;
  /** The candidate's ordering keys, once computed. */
  keys?: number[];
}

interface Pdb {
  namespace: string;
  /** The selector as written, to tell PDBs apart. */
  source: unknown;
  matches: (l: Record<string, string> | undefined) => boolean;
  allowed: number;
  disrupted: Set<string>;
}

function compilePdbs(pdbs: any[]): Pdb[] {
  return pdbs
    .filter((p) => p.spec?.selector && !isEmptySelector(p.spec.selector))
    .map((p) => ({
      namespace: p.metadata.namespace,
      source: p.spec.selector,
      matches: compileLabelSelector(p.spec.selector),
      allowed: p.status?.disruptionsAllowed ?? 0,
      disrupted: new Set(Object.keys(p.status?.disruptedPods ?? {})),
    }));
}

/** Splits pods into those whose eviction would break a PodDisruptionBudget and those that would not. */
export function splitByPdb(pods: PodInfo[], pdbs: Pdb[]): [PodInfo[], PodInfo[]] {
  const allowed = pdbs.map((p) => p.allowed);
  const violating: PodInfo[] = [];
  const ok: PodInfo[] = [];
  for (const pi of pods) {
    const m = pi.pod.metadata!;
    let v = false;
    pdbs.forEach((pdb, i) => {
      if (pdb.namespace !== m.namespace || !pdb.matches(m.labels) || pdb.disrupted.has(m.name!)) return;
      allowed[i]--;
      if (allowed[i] < 0) v = true;
    });
    (v ? violating : ok).push(pi);
  }
  return [violating, ok];
}

/**
 * The fewest lower-priority pods to remove from a node so the pod fits, as upstream's
 * SelectVictimsOnNode: remove them all, check the pod fits, then add back (reprieve) as many as
 * possible, most important first and PDB-protected ones before the rest.
 */
export function selectVictimsOnNode(h: Handle, state: CycleState, pi: PodInfo, ni: NodeInfo, pdbs: Pdb[]): DryRun {
  const remove = (p: PodInfo) => {
    ni.removePod(p.uid);
    h.runPreFilterRemovePod(state, pi, p, ni);
  };
  const add = (p: PodInfo) => {
    ni.addPod(p);
    h.runPreFilterAddPod(state, pi, p, ni);
  };
  const potential = ni.pods.filter((p) => p.priority < pi.priority);
  for (const p of potential) remove(p);
  if (!potential.length) return { victims: [], violations: 0, status: Status.unresolvable(MSG_NO_VICTIMS) };
  const s = h.runFilterWithNominated(state, pi, ni);
  if (s) return { victims: [], violations: 0, status: s };
  potential.sort(moreImportant);
  const [violating, nonViolating] = splitByPdb(potential, pdbs);
  const victims: PodInfo[] = [];
  let violations = 0;
  const reprieve = (p: PodInfo): boolean => {
    add(p);
    const fits = h.fitsWithNominated ? h.fitsWithNominated(state, pi, ni) : !h.runFilterWithNominated(state, pi, ni);
    if (!fits) {
      remove(p);
      victims.push(p);
    }
    return fits;
  };
  for (const p of violating) if (!reprieve(p)) violations++;
  for (const p of nonViolating) reprieve(p);
  victims.sort(moreImportant);
  return { victims, violations, status: null };
}

/** A candidate's ordering keys, smaller first: PDB violations, top victim priority, priority sum, victims, minus the earliest start among the top victims. */
export function candidateKeys(c: Candidate): number[] {
  const top = c.victims.length ? c.victims[0].priority : -Infinity;
  let sum = 0;
  let earliest = Infinity;
  for (const v of c.victims) {
    sum += v.priority + 2 ** 31 + 1;
    if (v.priority === top) earliest = Math.min(earliest, startTime(v));
  }
  return [c.numPDBViolations, top, sum, c.victims.length, -earliest];
}

/**
 * The candidate upstream would pick (pickOneNodeForPreemption): fewest PDB violations, lowest top
 * victim priority, lowest priority sum, fewest victims, latest start; the first on a full tie.
 */
export function pickCandidate(cs: Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  let bestKeys: number[] = [];
  for (const c of cs) {
    const k = (c.keys ??= candidateKeys(c));
    if (!best || lexLess(k, bestKeys)) {
      best = c;
      bestKeys = k;
    }
  }
  return best;
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/** Being deleted because the scheduler preempted it (DisruptionTarget by PreemptionByScheduler), as upstream's podTerminatingByPreemption. */
export function terminatingByPreemption(p: Pod): boolean {
  if (!p.metadata?.deletionTimestamp) return false;
  return (p.status?.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'PreemptionByScheduler');
}

/**
 * Why the pod may not preempt, or undefined when it may. `evicted` holds victims whose DELETE
 * returned but whose deletion the cache may not show yet: a victim without a grace period goes at
 * once, never shows a deletionTimestamp, and would otherwise look like a pod still running there.
 */
export function notEligible(h: Handle, pi: PodInfo, statuses: NodeStatusReader, evicted?: { has(uid: string): boolean }): string | undefined {
  const pod = pi.pod;
  if ((pod.spec?.preemptionPolicy ?? 'PreemptLowerPriority') === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  // The nominator's answer counts before the pod's status shows it: a pod retried quickly must not preempt twice.
  const nominated = pod.status?.nominatedNodeName || h.nominatedNodeOf?.(pi.uid);
  if (nominated) {
    // The pod already preempted there; if the node is still unfit only because victims are terminating, wait.
    if (statuses.get(nominated)?.code === Code.UnschedulableAndUnresolvable) return undefined;
    const ni = h.snapshot().get(nominated);
    if (ni?.pods.some((p) => p.priority < pi.priority && (terminatingByPreemption(p.pod) || evicted?.has(p.uid)))) return 'not eligible due to a terminating pod on the nominated node.';
  }
  return undefined;
}

/** Formats a node → status map as "0/N nodes are available: …." (the FitError form). */
export function fitMessage(numNodes: number, statuses: NodeStatusReader): string {
  const parts = reasonHistogram(statuses.values());
  return `0/${numNodes} nodes are available:` + (parts.length ? ` ${parts.join(', ')}.` : '');
}


/**
 * PostFilter: when a pod fits nowhere, find a node where evicting lower-priority pods makes room,
 * nominate the pod there and delete the victims, as upstream's DefaultPreemption.
 */
export function newDefaultPreemption(args: PreemptionArgs, h: Handle, rand: () => number = Math.random): AnyPlugin {
  const pct = args.minCandidateNodesPercentage ?? 10;
  const abs = args.minCandidateNodesAbsolute ?? 100;
  // Dry runs of identical pods on unchanged nodes give the same answer (see NodeMemo).
  const memo = new NodeMemo<DryRun>();
  /** Preemptors whose victims are still being deleted (upstream's Evaluator.preempting). */
  const preempting = new Set<string>();
  /** Preemptors PreEnqueue held back: woken once their last victim's eviction returned, in case no deletion event comes (it was gone already). */
  const held = new Set<string>();
  const evicted = new EvictedVictims(() => h.now());
  return {
    name: 'DefaultPreemption',
    // As upstream's async preemption: a preemptor waits out its own victims' API calls, so it does
    // not come back, find them not yet terminating, and preempt a second set.
    preEnqueue(pod) {
      const uid = pod.metadata?.uid ?? '';
      if (!preempting.has(uid)) return null;
      held.add(uid);
      return Status.unresolvable(MSG_PREEMPTING);
    },
    events: () => [{ resource: 'AssignedPod', actions: ['Delete'] }],
    postFilter(state, pi, statuses) {
      const why = notEligible(h, pi, statuses, evicted);
      if (why) return { status: Status.unschedulable(`preemption: ${why}`) };
      const all = h.snapshot().nodes();
      const out = new NodeStatuses();
      // Nodes rejected for good (usually few) by one pass over the statuses, not a lookup per node.
      const unresolvable = new Set<string>();
      statuses.forEach((s, name) => {
        if (s.code === Code.UnschedulableAndUnresolvable) unresolvable.add(name);
      });
      const notHelpful = Status.unresolvable(MSG_NOT_HELPFUL);
      // Usually no node is ruled out for good: then every node is a potential one, without a copy.
      let potential = all;
      if (unresolvable.size) {
        potential = [];
        for (const ni of all) {
          if (unresolvable.has(ni.name)) out.set(ni.name, notHelpful);
          else potential.push(ni);
        }
      }
      const candidates: Candidate[] = [];
      if (potential.length) {
        const pdbs = compilePdbs(h.pdbs?.() ?? []);
        const n = potential.length;
        const want = Math.min(n, Math.max(Math.trunc((n * pct) / 100), abs));
        const offset = Math.floor(rand() * n);
        let nonViolating = 0;
        const cls = podClass(state, pi, pdbs.map((d) => [d.namespace, d.allowed, [...d.disrupted], d.source]));
        const own = cls === undefined ? undefined : ownNomination(h, pi);
        for (let i = 0; i < n; i++) {
          const ni = potential[(offset + i) % n];
          const nominated = cls === undefined ? [] : h.nominatedPodsOn ? h.nominatedPodsOn(ni) : h.nominatedPodsFor(ni.name);
          let r = memo.get(cls, own, ni, nominated);
          if (!r) {
            r = selectVictimsOnNode(h, state.clone(), pi, ni.clone(), pdbs);
            memo.set(cls, own, ni, nominated, r);
          }
          if (!r.status && r.victims.length) {
            const c: Candidate = { node: ni.name, victims: r.victims, numPDBViolations: r.violations };
            c.keys = r.keys ??= candidateKeys(c);
            candidates.push(c);
            if (r.violations === 0) nonViolating++;
            // As upstream's dryRunPreemption: stop with numCandidates candidates, at least one not violating a PDB.
            if (nonViolating > 0 && candidates.length >= want) break;
          } else if (!r.status) out.set(ni.name, Status.error('expected at least one victim pod on node ' + ni.name));
          else out.set(ni.name, r.status);
        }
      }
      if (!candidates.length) {
        if (pi.pod.status?.nominatedNodeName) void h.api?.clearNominatedNodeName(pi.pod).catch(() => undefined);
        return { status: Status.unschedulable(`preemption: ${fitMessage(out.size, out)}`), result: { nominatedNodeName: '' } };
      }
      const best = pickCandidate(candidates)!;
      if (h.api) {
        const api = h.api;
        // Lower-priority pods nominated to this node lose their nomination: the room is now ours.
        for (const np of h.nominatedPodsFor(best.node)) if (np.priority < pi.priority) void api.clearNominatedNodeName(np.pod).catch(() => undefined);
        // As upstream's prepareCandidateAsync: all victims but the last in parallel, then the last
        // one, while the preemptor is held back. Unlike upstream it stays held until the last call
        // returns: retried in between (a free scheduler pops backoffQ at once), it could find the
        // first victims gone and the last not yet terminating, and preempt a second set.
        const uid = pi.uid;
        const victims = best.victims;
        const evict = (v: PodInfo) =>
          api.preemptVictim(v.pod, pi.pod, best.node).then(
            () => evicted.add(v.uid),
            () => undefined,
          );
        preempting.add(uid);
        void Promise.all(victims.slice(0, -1).map(evict))
          .then(() => evict(victims[victims.length - 1]))
          .finally(() => {
            preempting.delete(uid);
            if (held.delete(uid)) h.activate?.([pi.pod]);
          });
      }
      return { status: null, result: { nominatedNodeName: best.node } };
    },
  };
}

/**
 * Victims whose DELETE the API server accepted, kept for a while so that a preemptor retried
 * before the watch delivers the deletions waits for them instead of preempting a second set.
 * Entries expire (a victim's deletion event comes within moments), so the set stays small.
 */
export class EvictedVictims {
  private readonly at = new Map<string, number>();
  constructor(private readonly now: () => number, private readonly ttlMs = 30_000) {}
  add(uid: string): this {
    const now = this.now();
    // Map order is insertion order: the oldest entries are first.
    for (const [k, t] of this.at) {
      if (now - t < this.ttlMs) break;
      this.at.delete(k);
    }
    this.at.delete(uid);
    this.at.set(uid, now);
    return this;
  }
  has(uid: string): boolean {
    const t = this.at.get(uid);
    return t !== undefined && this.now() - t < this.ttlMs;
  }
  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.at.size;
  }
}
