import type { CycleState, Handle } from './interface.js';
import type { NodeInfo } from './nodeinfo.js';
import type { PodInfo } from './podinfo.js';

/**
 * What filters can see of a pod when the cycle state is empty (no PreFilter data: filters then
 * depend on nothing but the pod and the node): its namespace, labels, priority and spec, and
 * which filters PreFilter said to skip. undefined when the state holds data.
 */
export function podClass(state: CycleState, pi: PodInfo, extra?: unknown): number | undefined {
  if (!state.empty) return undefined;
  // The pod part once per PodInfo (a PodInfo is one version of the pod): a failing pod is retried often.
  let base = pi.classJson;
  if (base === undefined) {
    const m = pi.pod.metadata;
    const spec = { ...pi.pod.spec, nodeName: undefined };
    pi.classJson = base = JSON.stringify([m?.namespace, m?.labels ?? null, pi.priority, spec]);
  }
  const skip = state.skipFilter.size ? JSON.stringify([...state.skipFilter].sort()) : '[]';
  return intern(`${base}${skip}${extra === undefined ? '' : JSON.stringify(extra)}`);
}

/** Class strings as small numbers, so a node's check is an integer compare, not a string compare. */
const ids = new Map<string, number>();
let nextId = 0;
function intern(s: string): number {
  let id = ids.get(s);
  if (id === undefined) {
    // Ids are never reused, so forgetting old strings only costs misses.
    if (ids.size >= 10_000) ids.clear();
    ids.set(s, (id = ++nextId));
  }
  return id;
}

interface Entry<T> {
  cls: number;
  generation: number;
  nominated: PodInfo[];
  value: T;
}

/**
 * Per node, the last answer computed for a pod class, valid while the node does not change (its
 * generation moves with every pod and node update) and its nominated pods stay the same list (the
 * queue replaces the list when nominations change). A stream of identical pods (a ReplicaSet, a
 * benchmark) then skips nodes already judged, as upstream's old equivalence cache did. Entries for
 * a node where the pod itself is nominated are neither read nor written: its twins see it there.
 */
let slots = 0;

export class NodeMemo<T> {
  /** Where this memo keeps its entry on each NodeInfo (an array index: cheaper than a map by node name). */
  private readonly slot = slots++;
  hits = 0;

  /** own: the node where the pod itself is nominated (its entry there is neither read nor written). */
  get(cls: number | undefined, own: NodeInfo | undefined, ni: NodeInfo, nominated: PodInfo[]): T | undefined {
    if (cls === undefined || ni === own) return undefined;
    const e = ni.memo[this.slot] as Entry<T> | undefined;
    if (!e || e.cls !== cls || e.generation !== ni.generation) return undefined;
    if (e.nominated !== nominated && (e.nominated.length || nominated.length)) return undefined;
    this.hits++;
    return e.value;
  }

  set(cls: number | undefined, own: NodeInfo | undefined, ni: NodeInfo, nominated: PodInfo[], value: T): void {
    if (cls === undefined || ni === own) return;
    const e = ni.memo[this.slot] as Entry<T> | undefined;
    if (!e) {
      ni.memo[this.slot] = { cls, generation: ni.generation, nominated, value };
      return;
    }
    e.cls = cls;
    e.generation = ni.generation;
    e.nominated = nominated;
    e.value = value;
  }
}

/** The snapshot node where the pod itself is nominated, if any (memo entries there are skipped). */
export function ownNomination(h: Handle, pi: PodInfo): NodeInfo | undefined {
  const n = h.nominatedNodeOf ? h.nominatedNodeOf(pi.uid) : pi.pod.status?.nominatedNodeName;
  return n ? h.snapshot().get(n) : undefined;
}
