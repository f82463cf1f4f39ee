import { CycleState, type AnyPlugin, type BindPlugin, type FilterPlugin, type Handle, type PermitPlugin, type PostBindPlugin, type PostFilterPlugin, type PreBindPlugin, type PreEnqueuePlugin, type PreFilterPlugin, type PreScorePlugin, type QueueSortPlugin, type ReservePlugin, type ScorePlugin, type ClusterEvent, type PostFilterResult } from './interface.js';
import type { NodeInfo } from './nodeinfo.js';
import type { PodInfo } from './podinfo.js';
import { Code, Status, type MaybeStatus, type NodeStatusReader } from './status.js';
import { MAX_NODE_SCORE, type Pod } from './types.js';
import { SkiffError } from '../util/errors.js';
import type { ProfileConfig } from './config.js';
import type { Registry } from './registry.js';
import { NodeMemo } from './memo.js';


interface Weighted<T> {
  p: T;
  weight: number;
}

/**
 * One scheduling profile: its plugins at each extension point, run in order, as upstream's
 * frameworkImpl. A filter stops at the first plugin that rejects a node.
 */
export class Framework {
  readonly schedulerName: string;
  readonly percentageOfNodesToScore: number;
  readonly plugins = new Map<string, AnyPlugin>();
  readonly preEnqueue: PreEnqueuePlugin[] = [];
  queueSort?: QueueSortPlugin;
  readonly preFilter: PreFilterPlugin[] = [];
  readonly filter: FilterPlugin[] = [];
  readonly postFilter: PostFilterPlugin[] = [];
  readonly preScore: PreScorePlugin[] = [];
  readonly score: Weighted<ScorePlugin>[] = [];
  readonly reserve: ReservePlugin[] = [];
  readonly permit: PermitPlugin[] = [];
  readonly preBind: PreBindPlugin[] = [];
  readonly bind: BindPlugin[] = [];
  readonly postBind: PostBindPlugin[] = [];
  /** Filter verdicts per node for the last pod class seen there (see NodeMemo). */
  readonly filterMemo = new NodeMemo<MaybeStatus>();

  constructor(profile: ProfileConfig, registry: Registry, readonly handle: Handle) {
    this.schedulerName = profile.schedulerName;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore ?? 0;
    const argsOf = (name: string) => profile.pluginConfig?.find((c) => c.name === name)?.args ?? {};
    const get = (name: string): AnyPlugin => {
      let p = this.plugins.get(name);
      if (!p) {
        const f = registry.get(name);
        if (!f) throw new SkiffError('BAD_SCHEDULER_CONFIG', `plugin "${name}" does not exist`);
        p = f(argsOf(name), handle);
        this.plugins.set(name, p);
      }
      return p;
    };
    for (const [point, entries] of Object.entries(profile.points)) {
      for (const e of entries) {
        const p = get(e.name);
        const has = (m: string) => typeof (p as any)[m] === 'function';
        switch (point) {
          case 'preEnqueue':
            if (has('preEnqueue')) this.preEnqueue.push(p as PreEnqueuePlugin);
            break;
          case 'queueSort':
            if (has('less')) this.queueSort ??= p as QueueSortPlugin;
            break;
          case 'preFilter':
            if (has('preFilter')) this.preFilter.push(p as PreFilterPlugin);
            break;
          case 'filter':
            if (has('filter')) this.filter.push(p as FilterPlugin);
            break;
          case 'postFilter':
            if (has('postFilter')) this.postFilter.push(p as PostFilterPlugin);
            break;
          case 'preScore':
            if (has('preScore')) this.preScore.push(p as PreScorePlugin);
            break;
          case 'score':
            if (has('score')) this.score.push({ p: p as ScorePlugin, weight: e.weight ?? 1 });
            break;
          case 'reserve':
            if (has('reserve')) this.reserve.push(p as ReservePlugin);
            break;
          case 'permit':
            if (has('permit')) this.permit.push(p as PermitPlugin);
            break;
          case 'preBind':
            if (has('preBind')) this.preBind.push(p as PreBindPlugin);
            break;
          case 'bind':
            if (has('bind')) this.bind.push(p as BindPlugin);
            break;
          case 'postBind':
            if (has('postBind')) this.postBind.push(p as PostBindPlugin);
            break;
        }
      }
    }
    if (!this.bind.length) throw new SkiffError('BAD_SCHEDULER_CONFIG', `profile "${this.schedulerName}": at least one bind plugin is needed`);
  }

  /** Cluster events each enabled plugin cares about. */
  eventsByPlugin(): Map<string, ClusterEvent[]> {
    const m = new Map<string, ClusterEvent[]>();
    for (const [n, p] of this.plugins) m.set(n, p.events?.() ?? []);
    return m;
  }

  runPreEnqueue(pod: Pod): MaybeStatus {
    for (const p of this.preEnqueue) {
      const s = p.preEnqueue(pod);
      if (s && s.code !== Code.Success) return s.withPlugin(p.name);
    }
    return null;
  }

  runPreFilter(state: CycleState, pi: PodInfo, nodes: NodeInfo[]): { status: MaybeStatus; nodeNames?: Set<string>; restrictedBy: string[] } {
    let nodeNames: Set<string> | undefined;
    const restrictedBy: string[] = [];
    for (const p of this.preFilter) {
      const { status, result } = p.preFilter(state, pi, nodes);
      if (status && status.code === Code.Skip) {
        state.skipFilter.add(p.name);
        continue;
      }
      if (status && status.code !== Code.Success) return { status: status.withPlugin(p.name), restrictedBy };
      if (result?.nodeNames) {
        restrictedBy.push(p.name);
        nodeNames = nodeNames ? new Set([...nodeNames].filter((n) => result.nodeNames!.has(n))) : result.nodeNames;
        if (!nodeNames.size) {
          return { status: Status.unresolvable(`node(s) didn't satisfy plugin(s) [${restrictedBy.join(' ')}] simultaneously`).withPlugin(p.name), restrictedBy };
        }
      }
    }
    return { status: null, nodeNames, restrictedBy };
  }

  runFilter(state: CycleState, pi: PodInfo, ni: NodeInfo): MaybeStatus {
    const skip = state.skipFilter;
    for (const p of this.filter) {
      if (skip.size && skip.has(p.name)) continue;
      const s = p.filter(state, pi, ni);
      if (s && s.code !== Code.Success) {
        if (s.plugin === '') s.plugin = p.name;
        return s;
      }
    }
    return null;
  }

  /**
   * Filters with nominated pods of equal or higher priority counted on the node, and again without
   * them (a pod must fit both ways, since nominated pods may not end up there), as upstream.
   */
  private nominatedOn(ni: NodeInfo): PodInfo[] {
    const h = this.handle;
    return h.nominatedPodsOn ? h.nominatedPodsOn(ni) : h.nominatedPodsFor(ni.name);
  }

  runFilterWithNominated(state: CycleState, pi: PodInfo, ni: NodeInfo): MaybeStatus {
    const nominated = this.nominatedOn(ni);
    let st: CycleState | undefined;
    let niCopy: NodeInfo | undefined;
    for (const np of nominated) {
      if (np.uid === pi.uid || np.priority < pi.priority) continue;
      // Copies only when some nominated pod counts: most nodes have none.
      st ??= state.clone();
      niCopy ??= ni.clone();
      niCopy.addPod(np);
      const s = this.runPreFilterAddPod(st, pi, np, niCopy);
      if (s) return s;
    }
    if (st && niCopy) {
      const s = this.runFilter(st, pi, niCopy);
      if (s) return s;
    }
    return this.runFilter(state, pi, ni);
  }

  /**
   * Whether runFilterWithNominated would pass, without its status: the plain run goes first, so a
   * node that fails anyway costs no copy (preemption's reprieve loop needs only yes or no).
   */
  fitsWithNominated(state: CycleState, pi: PodInfo, ni: NodeInfo): boolean {
    if (this.runFilter(state, pi, ni)) return false;
    const nominated = this.nominatedOn(ni);
    for (const np of nominated) {
      if (np.uid !== pi.uid && np.priority >= pi.priority) return !this.runFilterWithNominated(state, pi, ni);
    }
    return true;
  }

  /** runFilterWithNominated, remembered per node for pods of one class (cls from podClass; undefined: no memo). */
  runFilterMemo(cls: number | undefined, own: NodeInfo | undefined, state: CycleState, pi: PodInfo, ni: NodeInfo): MaybeStatus {
    if (cls === undefined) return this.runFilterWithNominated(state, pi, ni);
    const nominated = this.nominatedOn(ni);
    const hit = this.filterMemo.get(cls, own, ni, nominated);
    if (hit !== undefined) return hit;
    const s = this.runFilterWithNominated(state, pi, ni);
    this.filterMemo.set(cls, own, ni, nominated, s);
    return s;
  }

  runPreFilterAddPod(state: CycleState, pi: PodInfo, add: PodInfo, ni: NodeInfo): MaybeStatus {
    for (const p of this.preFilter) {
      if (!p.addPod || state.skipFilter.has(p.name)) continue;
      const s = p.addPod(state, pi, add, ni);
      if (s && s.code !== Code.Success) return s.withPlugin(p.name);
    }
    return null;
  }

  runPreFilterRemovePod(state: CycleState, pi: PodInfo, rm: PodInfo, ni: NodeInfo): MaybeStatus {
    for (const p of this.preFilter) {
      if (!p.removePod || state.skipFilter.has(p.name)) continue;
      const s = p.removePod(state, pi, rm, ni);
      if (s && s.code !== Code.Success) return s.withPlugin(p.name);
    }
    return null;
  }

  /** The first PostFilter that succeeds wins; otherwise the rejections are merged. */
  runPostFilter(state: CycleState, pi: PodInfo, statuses: NodeStatusReader): { status: Status; result?: PostFilterResult } {
    const reasons: string[] = [];
    let result: PostFilterResult | undefined;
    let rejector = '';
    for (const p of this.postFilter) {
      const r = p.postFilter(state, pi, statuses);
      if (!r.status || r.status.code === Code.Success) return { status: new Status(Code.Success).withPlugin(p.name), result: r.result };
      if (!r.status.isRejected) return { status: r.status.withPlugin(p.name), result: r.result };
      reasons.push(...r.status.reasons);
      if (r.result?.nominatedNodeName !== undefined) result = r.result;
      rejector ||= p.name;
    }
    return { status: new Status(Code.Unschedulable, reasons).withPlugin(rejector), result };
  }

  runPreScore(state: CycleState, pi: PodInfo, nodes: NodeInfo[]): MaybeStatus {
    for (const p of this.preScore) {
      const s = p.preScore(state, pi, nodes);
      if (s && s.code === Code.Skip) {
        state.skipScore.add(p.name);
        continue;
      }
      if (s && s.code !== Code.Success) return s.withPlugin(p.name);
    }
    return null;
  }

  /** Weighted sum of every score plugin's (normalized) scores, per node. */
  runScore(state: CycleState, pi: PodInfo, nodes: NodeInfo[]): Float64Array {
    const total = new Float64Array(nodes.length);
    const scores = new Array<number>(nodes.length);
    for (const { p, weight } of this.score) {
      if (state.skipScore.has(p.name)) continue;
      for (let i = 0; i < nodes.length; i++) scores[i] = p.score(state, pi, nodes[i]);
      p.normalize?.(state, pi, scores, nodes);
      for (let i = 0; i < nodes.length; i++) {
        const s = scores[i];
        total[i] += (s > MAX_NODE_SCORE ? MAX_NODE_SCORE : s < 0 ? 0 : s) * weight;
      }
    }
    return total;
  }

  runReserve(state: CycleState, pi: PodInfo, nodeName: string): MaybeStatus {
    for (const p of this.reserve) {
      const s = p.reserve(state, pi, nodeName);
      if (s && s.code !== Code.Success) return s.withPlugin(p.name);
    }
    return null;
  }

  runUnreserve(state: CycleState, pi: PodInfo, nodeName: string): void {
    for (let i = this.reserve.length - 1; i >= 0; i--) this.reserve[i].unreserve(state, pi, nodeName);
  }

  /** Success, a rejection, or Wait with each waiting plugin's timeout (as upstream, a rejection wins over waits). */
  runPermit(state: CycleState, pi: PodInfo, nodeName: string): { status: MaybeStatus; waits?: Map<string, number> } {
    let waits: Map<string, number> | undefined;
    for (const p of this.permit) {
      const r = p.permit(state, pi, nodeName);
      if (r.status?.code === Code.Wait) {
        (waits ??= new Map()).set(p.name, r.timeoutMs ?? 0);
        continue;
      }
      if (r.status && r.status.code !== Code.Success) return { status: r.status.withPlugin(p.name) };
    }
    if (waits) return { status: new Status(Code.Wait, [`one or more plugins asked to wait and no plugin rejected pod "${pi.pod.metadata?.name}"`]), waits };
    return { status: null };
  }

  async runPreBind(state: CycleState, pi: PodInfo, nodeName: string): Promise<MaybeStatus> {
    for (const p of this.preBind) {
      const s = await p.preBind(state, pi, nodeName);
      if (s && s.code !== Code.Success) return s.withPlugin(p.name);
    }
    return null;
  }

  async runBind(state: CycleState, pi: PodInfo, nodeName: string): Promise<MaybeStatus> {
    for (const p of this.bind) {
      const s = await p.bind(state, pi, nodeName);
      if (s && s.code === Code.Skip) continue;
      if (s && s.code !== Code.Success) return s.withPlugin(p.name);
      return null;
    }
    return Status.error('no bind plugin bound the pod');
  }

  runPostBind(state: CycleState, pi: PodInfo, nodeName: string): void {
    for (const p of this.postBind) p.postBind(state, pi, nodeName);
  }
}

export { CycleState };
