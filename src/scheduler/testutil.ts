/** Builders for table-driven scheduler tests: nodes, pods and a framework over an in-memory cache. */
import type { Clock } from '../client/workqueue.js';
import { Cache } from './cache.js';
import { buildProfile, type ProfileSpec } from './config.js';
import { Framework } from './framework.js';
import { CycleState, type Handle, type Snapshot } from './interface.js';
import type { Labels, Matcher } from './labels.js';
import { newPodInfo, type PodInfo } from './podinfo.js';
import { inTreeRegistry } from './registry.js';
import { schedulePod, type CycleContext, type ScheduleResult } from './schedule.js';
import type { Node, Pod, Taint } from './types.js';
import type { VolumeLister } from './plugins/volumebinding/volumebinding.js';

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  images?: { names: string[]; sizeBytes: number }[];
  extra?: Record<string, string>;
}

export function mkNode(name: string, o: NodeOpts = {}): Node {
  const alloc = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: String(o.pods ?? 110), ...o.extra };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { capacity: alloc, allocatable: alloc, images: o.images },
  };
}

export interface PodOpts {
  ns?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  spec?: Record<string, unknown>;
  containers?: any[];
  uid?: string;
  status?: Record<string, unknown>;
  creationTimestamp?: string;
}

let uidSeq = 0;
export function mkPod(name: string, o: PodOpts = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.ns ?? 'default', uid: o.uid ?? `uid-${name}-${++uidSeq}`, labels: o.labels, creationTimestamp: o.creationTimestamp },
    spec: {
      containers: o.containers ?? [{ name: 'c', image: 'pause', resources: { requests } }],
      nodeName: o.nodeName,
      priority: o.priority,
      schedulerName: 'default-scheduler',
      ...o.spec,
    },
    status: { phase: 'Pending', ...o.status },
  } as Pod;
}

export interface TestWorld {
  cache: Cache;
  fwk: Framework;
  handle: Handle;
  nominated: Map<string, PodInfo[]>;
  ctx: CycleContext;
}

export function mkWorld(nodes: Node[], pods: Pod[] = [], o: { profile?: ProfileSpec; nsLabels?: Record<string, Labels>; selectors?: (p: Pod) => Matcher[]; pdbs?: any[]; rand?: () => number; naive?: boolean; volumes?: VolumeLister } = {}): TestWorld {
  const cache = new Cache();
  // naive: plugins see a snapshot without the incremental count indexes (the reference computation).
  const snap: Snapshot = o.naive
    ? { nodes: () => cache.nodes(), get: (n) => cache.get(n), withScoredAffinity: () => cache.withScoredAffinity(), withRequiredAntiAffinity: () => cache.withRequiredAntiAffinity(), imageNodeCount: (i) => cache.imageNodeCount(i) }
    : cache;
  for (const n of nodes) cache.addNode(n);
  for (const p of pods) cache.addPod(newPodInfo(p));
  const nominated = new Map<string, PodInfo[]>();
  let fwk!: Framework;
  const handle: Handle = {
    snapshot: () => snap,
    namespaceLabels: (ns) => o.nsLabels?.[ns],
    selectorsFor: o.selectors,
    pdbs: () => o.pdbs ?? [],
    volumes: o.volumes,
    nominatedPodsFor: (n) => nominated.get(n) ?? [],
    nominatedNodeOf: (uid) => [...nominated].find(([, l]) => l.some((p) => p.uid === uid))?.[0],
    runFilterWithNominated: (s, pi, ni) => fwk.runFilterWithNominated(s, pi, ni),
    fitsWithNominated: (s, pi, ni) => fwk.fitsWithNominated(s, pi, ni),
    runPreFilterAddPod: (s, pi, a, ni) => fwk.runPreFilterAddPod(s, pi, a, ni),
    runPreFilterRemovePod: (s, pi, r, ni) => fwk.runPreFilterRemovePod(s, pi, r, ni),
    now: () => 0,
  };
  fwk = new Framework(buildProfile(o.profile ?? {}), inTreeRegistry(), handle);
  // Deterministic tie-breaking: the first of equal nodes wins.
  const rand = o.rand ?? (() => 0.999999);
  return { cache, fwk, handle, nominated, ctx: { fwk, snap, nextStartNodeIndex: 0, rand } };
}

/** One scheduling cycle for the pod in the world (nothing is assumed). */
export function scheduleIn(w: TestWorld, pod: Pod): ScheduleResult & { state: CycleState } {
  const state = new CycleState();
  return { ...schedulePod(w.ctx, state, newPodInfo(pod)), state };
}

/** Schedules pods one after another, assuming each onto its node; returns pod name → node (or the failure message). */
export function scheduleAll(w: TestWorld, pods: Pod[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pods) {
    const r = scheduleIn(w, p);
    if (r.kind === 'scheduled') {
      out[p.metadata!.name!] = r.node;
      w.cache.addPod(newPodInfo({ ...p, spec: { ...p.spec!, nodeName: r.node } }));
    } else out[p.metadata!.name!] = r.kind === 'unschedulable' ? r.fitError.message() : r.message;
  }
  return out;
}

/** Each node's filter verdict for the pod: '' when it fits, else the reasons. */
export function filterEach(w: TestWorld, pod: Pod): Record<string, string> {
  const pi = newPodInfo(pod);
  const state = new CycleState();
  const pre = w.fwk.runPreFilter(state, pi, w.cache.nodes());
  const out: Record<string, string> = {};
  for (const ni of w.cache.nodes()) {
    if (pre.status) out[ni.name] = pre.status.message;
    else if (pre.nodeNames && !pre.nodeNames.has(ni.name)) out[ni.name] = 'excluded by PreFilter';
    else out[ni.name] = w.fwk.runFilter(state, pi, ni)?.message ?? '';
  }
  return out;
}

/** One score plugin's normalized scores for the pod on every node. */
export function scoresOf(w: TestWorld, pod: Pod, plugin: string): Record<string, number> {
  const pi = newPodInfo(pod);
  const state = new CycleState();
  const nodes = w.cache.nodes();
  w.fwk.runPreFilter(state, pi, nodes);
  w.fwk.runPreScore(state, pi, nodes);
  const out: Record<string, number> = {};
  const entry = w.fwk.score.find((s) => s.p.name === plugin)!;
  if (state.skipScore.has(plugin)) {
    for (const n of nodes) out[n.name] = 0;
    return out;
  }
  const scores = nodes.map((n) => entry.p.score(state, pi, n));
  entry.p.normalize?.(state, pi, scores, nodes);
  nodes.forEach((n, i) => (out[n.name] = scores[i]));
  return out;
}

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  now() {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number) {
    const id = ++this.seq;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown) {
    this.timers = this.timers.filter((t) => t.id !== h);
  }
  step(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const t = this.timers[0];
      if (!t || t.at > end) break;
      this.timers.shift();
      this.t = t.at;
      t.fn();
    }
    this.t = end;
  }
}


/** A small deterministic PRNG (mulberry32) for randomized tests, so a failure replays. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: () => number, xs: T[]): T => xs[Math.floor(r() * xs.length)];
