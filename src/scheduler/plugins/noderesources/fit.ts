import type { AnyPlugin, QueueingHint } from '../../interface.js';
import type { NodeInfo } from '../../nodeinfo.js';
import { newPodInfo, type PodInfo } from '../../podinfo.js';
import { resourceFromList, type Resource } from '../../resources.js';
import type { Node, Pod } from '../../types.js';
import { Status } from '../../status.js';
import { MAX_NODE_SCORE } from '../../types.js';

export interface ResourceSpec {
  name: string;
  weight?: number;
}

export interface FitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: {
    type?: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
    resources?: ResourceSpec[];
    requestedToCapacityRatio?: { shape: { utilization: number; score: number }[] };
  };
}

/** The reasons a pod does not fit a node's free resources, as upstream's fitsRequest. */
export function insufficientResources(pi: PodInfo, ni: NodeInfo, ignored?: (name: string) => boolean): string[] {
  const out: string[] = [];
  if (ni.pods.length + 1 > ni.allocatable.allowedPodNumber) out.push('Too many pods');
  const r = pi.requests;
  if (r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && !r.scalar?.size) return out;
  const a = ni.allocatable;
  const used = ni.requested;
  if (r.milliCPU > 0 && r.milliCPU > a.milliCPU - used.milliCPU) out.push('Insufficient cpu');
  if (r.memory > 0 && r.memory > a.memory - used.memory) out.push('Insufficient memory');
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > a.ephemeralStorage - used.ephemeralStorage) out.push('Insufficient ephemeral-storage');
  if (r.scalar) {
    for (const [name, q] of r.scalar) {
      if (q === 0 || ignored?.(name)) continue;
      if (q > (a.scalar?.get(name) ?? 0) - (used.scalar?.get(name) ?? 0)) out.push(`Insufficient ${name}`);
    }
  }
  return out;
}

/** Whether the pod's requests fit the node's whole allocatable (an empty node), as upstream's isFit. */
function fitsEmpty(r: Resource, a: Resource, ignored: (name: string) => boolean): boolean {
  if (a.allowedPodNumber < 1) return false;
  if (r.milliCPU > a.milliCPU || r.memory > a.memory || r.ephemeralStorage > a.ephemeralStorage) return false;
  for (const [name, q] of r.scalar ?? []) if (q > 0 && !ignored(name) && q > (a.scalar?.get(name) ?? 0)) return false;
  return true;
}

/**
 * QueueingHint for node events, as upstream's isSchedulableAfterNodeChange: a node the pod could
 * not fit even empty changes nothing; an update helps only if a resource the pod asks for grew.
 */
export function afterNodeEvent(pi: PodInfo, oldNode: Node | undefined, newNode: Node, ignored: (name: string) => boolean = () => false): QueueingHint {
  const alloc = (n: Node) => resourceFromList((n.status?.allocatable ?? n.status?.capacity) as Record<string, string>);
  const after = alloc(newNode);
  if (!fitsEmpty(pi.requests, after, ignored)) return 'QueueSkip';
  if (!oldNode) return 'Queue';
  const before = alloc(oldNode);
  const grew = after.allowedPodNumber > before.allowedPodNumber || requestedMoved(pi.requests, before, after, (x, y) => y > x);
  return grew ? 'Queue' : 'QueueSkip';
}

/**
 * QueueingHint for assigned pods, as upstream's isSchedulableAfterPodEvent: a deleted pod frees
 * room; a scaled-down one only if it asks less of something the pod asks for.
 */
export function afterPodEvent(pi: PodInfo, oldPod: Pod, newPod: Pod | undefined): QueueingHint {
  if (!newPod) return oldPod.spec?.nodeName ? 'Queue' : 'QueueSkip';
  const less = requestedMoved(pi.requests, newPodInfo(oldPod).requests, newPodInfo(newPod).requests, (x, y) => y < x);
  return less ? 'Queue' : 'QueueSkip';
}

/** Whether `moved(from, to)` holds for some resource the pod requests (r). */
function requestedMoved(r: Resource, from: Resource, to: Resource, moved: (x: number, y: number) => boolean): boolean {
  return (
    (r.milliCPU > 0 && moved(from.milliCPU, to.milliCPU)) ||
    (r.memory > 0 && moved(from.memory, to.memory)) ||
    (r.ephemeralStorage > 0 && moved(from.ephemeralStorage, to.ephemeralStorage)) ||
    [...(r.scalar ?? [])].some(([k, q]) => q > 0 && moved(from.scalar?.get(k) ?? 0, to.scalar?.get(k) ?? 0))
  );
}

/** Allocatable and requested-with-this-pod of one resource; nonZero counts request-less containers as 100m/200Mi. */
export function allocatableAndRequested(ni: NodeInfo, pi: PodInfo, name: string, nonZero: boolean): [number, number] {
  const pr = nonZero ? pi.nonZeroRequests : pi.requests;
  const nr = nonZero ? ni.nonZeroRequested : ni.requested;
  switch (name) {
    case 'cpu':
      return [ni.allocatable.milliCPU, nr.milliCPU + pr.milliCPU];
    case 'memory':
      return [ni.allocatable.memory, nr.memory + pr.memory];
    case 'ephemeral-storage':
      return [ni.allocatable.ephemeralStorage, ni.requested.ephemeralStorage + pi.requests.ephemeralStorage];
    default: {
      const q = pi.requests.scalar?.get(name) ?? 0;
      // An extended resource the pod does not ask for does not count.
      if (q === 0) return [0, 0];
      return [ni.allocatable.scalar?.get(name) ?? 0, (ni.requested.scalar?.get(name) ?? 0) + q];
    }
  }
}

function leastRequested(req: number, cap: number): number {
  if (cap === 0 || req > cap) return 0;
  return Math.trunc(((cap - req) * MAX_NODE_SCORE) / cap);
}

function mostRequested(req: number, cap: number): number {
  if (cap === 0) return 0;
  if (req > cap) req = cap;
  return Math.trunc((req * MAX_NODE_SCORE) / cap);
}

/** Upstream's broken-linear function over (utilization %, score) points, scores already scaled to 0..100. */
function brokenLinear(shape: { utilization: number; score: number }[]): (p: number) => number {
  return (p) => {
    for (let i = 0; i < shape.length; i++) {
      if (p <= shape[i].utilization) {
        if (i === 0) return shape[0].score;
        const a = shape[i - 1];
        const b = shape[i];
        return a.score + Math.trunc(((b.score - a.score) * (p - a.utilization)) / (b.utilization - a.utilization));
      }
    }
    return shape[shape.length - 1].score;
  };
}

export type Scorer = (pi: PodInfo, ni: NodeInfo) => number;

export function makeScorer(strategy: FitArgs['scoringStrategy'] = {}): Scorer {
  const resources = (strategy.resources?.length ? strategy.resources : [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }]).map((r) => ({ name: r.name, weight: r.weight ?? 1 }));
  const type = strategy.type ?? 'LeastAllocated';
  if (type === 'RequestedToCapacityRatio') {
    const shape = (strategy.requestedToCapacityRatio?.shape ?? [
      { utilization: 0, score: 10 },
      { utilization: 100, score: 0 },
    ]).map((p) => ({ utilization: p.utilization, score: p.score * (MAX_NODE_SCORE / 10) }));
    const f = brokenLinear(shape);
    return (pi, ni) => {
      let sum = 0;
      let w = 0;
      for (const r of resources) {
        const [alloc, req] = allocatableAndRequested(ni, pi, r.name, true);
        if (alloc === 0) continue;
        const s = req > alloc ? f(100) : f(Math.trunc((req * 100) / alloc));
        if (s > 0) {
          sum += s * r.weight;
          w += r.weight;
        }
      }
      return w === 0 ? 0 : Math.round(sum / w);
    };
  }
  const fn = type === 'MostAllocated' ? mostRequested : leastRequested;
  if (resources.length === 2 && resources[0].name === 'cpu' && resources[1].name === 'memory' && resources[0].weight === 1 && resources[1].weight === 1) {
    // The default resources without the generic path's tuples: this runs for every scored node.
    return (pi, ni) => {
      const ac = ni.allocatable.milliCPU;
      const am = ni.allocatable.memory;
      const c = ac === 0 ? -1 : fn(ni.nonZeroRequested.milliCPU + pi.nonZeroRequests.milliCPU, ac);
      const m = am === 0 ? -1 : fn(ni.nonZeroRequested.memory + pi.nonZeroRequests.memory, am);
      if (c < 0 && m < 0) return 0;
      if (c < 0) return m;
      if (m < 0) return c;
      return Math.trunc((c + m) / 2);
    };
  }
  return (pi, ni) => {
    let sum = 0;
    let w = 0;
    for (const r of resources) {
      const [alloc, req] = allocatableAndRequested(ni, pi, r.name, true);
      if (alloc === 0) continue;
      sum += fn(req, alloc) * r.weight;
      w += r.weight;
    }
    return w === 0 ? 0 : Math.trunc(sum / w);
  };
}

/** Requests (incl. init containers and overhead) must fit the node's free allocatable; scores by the configured strategy. */
export function newNodeResourcesFit(args: FitArgs = {}): AnyPlugin {
  const ignored = new Set(args.ignoredResources ?? []);
  const groups = new Set(args.ignoredResourceGroups ?? []);
  const isIgnored = (n: string) => ignored.has(n) || (n.includes('/') && groups.has(n.slice(0, n.indexOf('/'))));
  const scorer = makeScorer(args.scoringStrategy);
  const shared = new Map<string, Status>();
  return {
    name: 'NodeResourcesFit',
    filter(_s, pi, ni) {
      const reasons = insufficientResources(pi, ni, isIgnored);
      if (!reasons.length) return null;
      // One status object per set of reasons: failed cycles histogram thousands of them by object.
      const key = reasons.length === 1 ? reasons[0] : reasons.join('\u0000');
      let s = shared.get(key);
      if (!s) shared.set(key, (s = Status.unschedulable(...reasons)));
      return s;
    },
    score: (_s, pi, ni) => scorer(pi, ni),
    events: () => [
      { resource: 'AssignedPod', actions: ['Delete', 'UpdatePodScaleDown'], hint: (pi, oldPod, newPod) => afterPodEvent(pi, oldPod, newPod) },
      { resource: 'Node', actions: ['Add', 'UpdateNodeAllocatable'], hint: (pi, oldNode, newNode) => afterNodeEvent(pi, oldNode, newNode, isIgnored) },
    ],
  };
}
