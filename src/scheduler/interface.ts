import type { Labels } from './labels.js';
import type { NodeInfo } from './nodeinfo.js';
import type { PodInfo } from './podinfo.js';
import type { MaybeStatus, NodeStatusReader, Status } from './status.js';
import type { AntiTermGroup, CountSpec } from './topocount.js';
import type { Pod } from './types.js';

/** Per-cycle scratch space plugins share between extension points; cloned for preemption what-ifs. */
export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** Filter/Score plugins that PreFilter/PreScore said to skip for this pod. */
  skipFilter = new Set<string>();
  skipScore = new Set<string>();

  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, v: StateData): void {
    this.data.set(key, v);
  }
  /** True when no plugin has stored anything: filters then depend only on the pod and the node. */
  get empty(): boolean {
    return this.data.size === 0;
  }
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v.clone());
    c.skipFilter = this.skipFilter;
    c.skipScore = this.skipScore;
    return c;
  }
}

export interface StateData {
  clone(): StateData;
}

/** The cluster as the scheduling cycle sees it. */
export interface Snapshot {
  /** Every node, in the order filters walk them (zones interleaved). */
  nodes(): NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Nodes with at least one pod in podsWithScoredAffinity (any order). */
  withScoredAffinity(): NodeInfo[];
  /** Nodes with at least one pod that has required anti-affinity terms (any order). */
  withRequiredAntiAffinity(): NodeInfo[];
  /** How many nodes have this (normalized) image. */
  imageNodeCount(image: string): number;
  /** Matching pods per topology value, kept incrementally (absent: plugins count themselves). Read-only. */
  topologyCounts?(spec: CountSpec): ReadonlyMap<string, number>;
  /** Existing pods' required anti-affinity terms grouped by what they select, with counts per domain; undefined: scan instead. Read-only. */
  antiAffinityGroups?(): Iterable<AntiTermGroup> | undefined;
}

export type ActionType = 'Add' | 'Delete' | 'Update' | 'UpdateNodeAllocatable' | 'UpdateNodeLabel' | 'UpdateNodeTaint' | 'UpdateNodeCondition' | 'UpdatePodLabel' | 'UpdatePodScaleDown' | 'UpdatePodTolerations' | 'UpdatePodSchedulingGates';

/** Whether an event is worth another attempt for a pod a plugin rejected, as upstream's framework.QueueingHint. */
export type QueueingHint = 'Queue' | 'QueueSkip';

/** Decides for one rejected pod and one event (old/new object; undefined on add/delete); throwing counts as Queue. */
export type QueueingHintFn = (pi: PodInfo, oldObj: any, newObj: any) => QueueingHint;

/**
 * A change that may make a rejected pod schedulable, as upstream's framework.ClusterEventWithHint.
 * The action 'Update' registers for every kind of update; as an event it is an update of no more
 * specific kind, which wakes only plugins registered for 'Update' or '*'.
 */
export interface ClusterEvent {
  resource: 'Node' | 'Pod' | 'AssignedPod' | 'UnscheduledPod' | 'Namespace' | 'Service' | 'PersistentVolume' | 'PersistentVolumeClaim' | 'StorageClass' | '*';
  actions: ActionType[] | '*';
  /** Without a hint every matching event requeues the pod. */
  hint?: QueueingHintFn;
}

/** What plugins may ask of the scheduler around them. */
export interface Handle {
  snapshot(): Snapshot;
  namespaceLabels(ns: string): Labels;
  /** Objects whose selectors define a pod's default topology spread (Services, ReplicaSets, StatefulSets, RCs). */
  selectorsFor?(pod: Pod): import('./labels.js').Matcher[];
  /** Nominated pods on a node with priority ≥ the given one (other than the pod itself). */
  nominatedPodsFor(nodeName: string): PodInfo[];
  /** The same for a snapshot node, without a lookup by name (absent: use nominatedPodsFor). */
  nominatedPodsOn?(ni: NodeInfo): PodInfo[];
  /** The node a pod is nominated to in this scheduler (which may be ahead of its status). */
  nominatedNodeOf?(uid: string): string | undefined;
  /** Runs the profile's filters on a node, with higher-or-equal priority nominated pods counted, as upstream's RunFilterPluginsWithNominatedPods. */
  runFilterWithNominated(state: CycleState, pi: PodInfo, ni: NodeInfo): MaybeStatus;
  /** Whether runFilterWithNominated passes, computed more cheaply when only the answer matters. */
  fitsWithNominated?(state: CycleState, pi: PodInfo, ni: NodeInfo): boolean;
  /** Runs the profile's PreFilter extensions as if podToAdd/podToRemove were on the node. */
  runPreFilterAddPod(state: CycleState, pi: PodInfo, podToAdd: PodInfo, ni: NodeInfo): MaybeStatus;
  runPreFilterRemovePod(state: CycleState, pi: PodInfo, podToRemove: PodInfo, ni: NodeInfo): MaybeStatus;
  /** Pods waiting at Permit (allow or reject them by uid), as upstream's GetWaitingPod/IterateOverWaitingPods. */
  getWaitingPod?(uid: string): import('./waitingpods.js').WaitingPod | undefined;
  iterateOverWaitingPods?(fn: (wp: import('./waitingpods.js').WaitingPod) => void): void;
  /** Moves these pods (parked or backing off) to activeQ now, as upstream's Handle.Activate. */
  activate?(pods: Pod[]): void;
  /** PodDisruptionBudgets, for preemption. */
  pdbs?(): any[];
  /** PVCs, PVs and StorageClasses, for VolumeBinding (absent: not served or not watched). */
  volumes?: import('./plugins/volumebinding/volumebinding.js').VolumeLister;
  /** API side effects, done outside the scheduling cycle. */
  api?: HandleApi;
  now(): number;
}

export interface HandleApi {
  bind(pod: Pod, nodeName: string): Promise<void>;
  /** Deletes a preemption victim (after marking it DisruptionTarget) and records the Preempted event. */
  preemptVictim(victim: Pod, preemptor: Pod, nodeName: string): Promise<void>;
  clearNominatedNodeName(pod: Pod): Promise<void>;
  /** Writes VolumeBinding's decisions (PV claimRef, PVC selected-node); absent: nothing to write to. */
  bindPodVolumes?(pod: Pod, node: string, d: import('./plugins/volumebinding/volumebinding.js').VolumeDecisions): Promise<void>;
}

export interface Plugin {
  readonly name: string;
  /** Cluster changes that may make a pod this plugin rejected schedulable. */
  events?(): ClusterEvent[];
}

export interface PreEnqueuePlugin extends Plugin {
  preEnqueue(pod: Pod): MaybeStatus;
}

export interface QueueSortPlugin extends Plugin {
  less(a: { pi: PodInfo; timestamp: number }, b: { pi: PodInfo; timestamp: number }): boolean;
}

export interface PreFilterResult {
  /** When set, only these nodes can possibly fit. */
  nodeNames?: Set<string>;
}

export interface PreFilterPlugin extends Plugin {
  /** null or Skip for success; Skip also skips this plugin's Filter. */
  preFilter(state: CycleState, pi: PodInfo, nodes: NodeInfo[]): { status: MaybeStatus; result?: PreFilterResult };
  addPod?(state: CycleState, pi: PodInfo, podToAdd: PodInfo, ni: NodeInfo): MaybeStatus;
  removePod?(state: CycleState, pi: PodInfo, podToRemove: PodInfo, ni: NodeInfo): MaybeStatus;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pi: PodInfo, ni: NodeInfo): MaybeStatus;
}

export interface PostFilterResult {
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pi: PodInfo, statuses: NodeStatusReader): { status: Status | null; result?: PostFilterResult };
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pi: PodInfo, nodes: NodeInfo[]): MaybeStatus;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pi: PodInfo, ni: NodeInfo): number;
  /** Rescales scores (in place) to 0..MAX_NODE_SCORE. */
  normalize?(state: CycleState, pi: PodInfo, scores: number[], nodes: NodeInfo[]): void;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pi: PodInfo, nodeName: string): MaybeStatus;
  unreserve(state: CycleState, pi: PodInfo, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  /** Wait holds the pod (reserved on the node) until the plugin allows it through Handle.getWaitingPod, or rejects it at timeoutMs. */
  permit(state: CycleState, pi: PodInfo, nodeName: string): { status: MaybeStatus; timeoutMs?: number };
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pi: PodInfo, nodeName: string): Promise<MaybeStatus>;
}

export interface BindPlugin extends Plugin {
  /** Skip hands the pod to the next binder. */
  bind(state: CycleState, pi: PodInfo, nodeName: string): Promise<MaybeStatus>;
}

export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pi: PodInfo, nodeName: string): void;
}

export type AnyPlugin = Plugin &
  Partial<PreEnqueuePlugin & QueueSortPlugin & PreFilterPlugin & FilterPlugin & PostFilterPlugin & PreScorePlugin & ScorePlugin & ReservePlugin & PermitPlugin & PreBindPlugin & BindPlugin & PostBindPlugin>;

/** Builds a plugin from its args (from the config file) and the handle. */
export type PluginFactory = (args: any, handle: Handle) => AnyPlugin;
