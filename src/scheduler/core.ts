import { realClock, type Clock } from '../client/workqueue.js';
import { Cache } from './cache.js';
import { DEFAULT_SCHEDULER_NAME, type SchedulerConfig } from './config.js';
import { Framework } from './framework.js';
import { CycleState, type ActionType, type Handle, type HandleApi } from './interface.js';
import type { Labels, Matcher } from './labels.js';
import { newPodInfo, withNodeName, type PodInfo } from './podinfo.js';
import { anyLess } from './resources.js';
import { NO_NOMINATED } from './nodeinfo.js';
import type { VolumeLister } from './plugins/volumebinding/volumebinding.js';
import { SchedulingQueue, type QueuedPodInfo } from './queue.js';
import type { Registry } from './registry.js';
import { schedulePod, type CycleContext } from './schedule.js';
import { Code, Status } from './status.js';
import type { Node, Pod } from './types.js';
import { WaitingPod, WaitingPods } from './waitingpods.js';

/** The API side effects of scheduling, so the core runs without sockets in tests. */
export interface SchedulerApi extends HandleApi {
  /** Writes the PodScheduled=False condition and nominatedNodeName (undefined = leave as is). */
  updateStatus(pod: Pod, condition: { reason: string; message: string }, nominatedNodeName: string | undefined): Promise<void>;
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface World {
  /** The current version of a pod, to skip pods deleted or bound meanwhile. */
  pod(key: string): Pod | undefined;
  namespaceLabels(ns: string): Labels;
  selectorsFor?(pod: Pod): Matcher[];
  pdbs?(): any[];
  volumes?: VolumeLister;
}

export interface CoreOptions {
  config: SchedulerConfig;
  registry: Registry;
  api: SchedulerApi;
  world: World;
  clock?: Clock;
  rand?: () => number;
  /** Bindings in flight at once; more waits (backpressure on the API server). */
  maxInFlightBindings?: number;
  /** Forget assumed pods the informer has not confirmed this long after their binding returned; 0 (upstream's default) never. */
  assumedPodTtlMs?: number;
}

/** How often expired assumed pods are looked for, as upstream's cleanAssumedPeriod. */
const CLEAN_ASSUMED_PERIOD_MS = 1000;

function isAssigned(p: Pod): boolean {
  return !!p.spec?.nodeName;
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/**
 * The scheduler without I/O: informer events go in through the on* methods; scheduleOne() runs
 * one synchronous scheduling cycle and starts the (asynchronous) binding cycle.
 */
export class SchedulerCore {
  readonly cache: Cache;
  readonly waitingPods = new WaitingPods();
  private cleanupTimer: unknown;
  readonly queue: SchedulingQueue;
  readonly profiles = new Map<string, Framework>();
  private readonly clock: Clock;
  private readonly rand: () => number;
  private readonly ctxs = new Map<Framework, CycleContext>();
  private inFlight = 0;
  /**
   * The failure last reported per pod (reason, message): a pod retried faster than its status
   * update comes back through the informer would otherwise write the same condition and event again.
   */
  private readonly written = new Map<string, string>();
  private slotWaiters: (() => void)[] = [];
  private readonly maxInFlight: number;
  /** Counters for benchmarks and logs. */
  readonly stats = { attempts: 0, scheduled: 0, unschedulable: 0, errors: 0, bound: 0, bindErrors: 0, preemptions: 0, victims: 0, cycleMs: 0 };

  constructor(private readonly o: CoreOptions) {
    this.clock = o.clock ?? realClock;
    this.rand = o.rand ?? Math.random;
    this.cache = new Cache({
      assumedPodTtlMs: o.assumedPodTtlMs,
      now: () => this.clock.now(),
      // The queue's nominations, mirrored onto each NodeInfo (see NodeInfo.nominated).
      onNewNodeInfo: (ni) => (ni.nominated = this.queue ? this.queue.nominatedPodsFor(ni.name) : NO_NOMINATED),
    });
    if ((o.assumedPodTtlMs ?? 0) > 0) this.scheduleCleanup();
    this.maxInFlight = o.maxInFlightBindings ?? 512;
    for (const p of o.config.profiles) {
      let fwk!: Framework;
      const handle: Handle = {
        snapshot: () => this.cache,
        namespaceLabels: (ns) => o.world.namespaceLabels(ns),
        selectorsFor: o.world.selectorsFor && ((pod) => o.world.selectorsFor!(pod)),
        pdbs: o.world.pdbs && (() => o.world.pdbs!()),
        volumes: o.world.volumes,
        nominatedPodsFor: (n) => (this.queue?.hasNominatedPods ? this.queue.nominatedPodsFor(n) : NO_NOMINATED),
        nominatedPodsOn: (ni) => ni.nominated,
        nominatedNodeOf: (uid) => this.queue?.nominatedNodeFor(uid),
        runFilterWithNominated: (s, pi, ni) => fwk.runFilterWithNominated(s, pi, ni),
    fitsWithNominated: (s, pi, ni) => fwk.fitsWithNominated(s, pi, ni),
        runPreFilterAddPod: (s, pi, a, ni) => fwk.runPreFilterAddPod(s, pi, a, ni),
        runPreFilterRemovePod: (s, pi, r, ni) => fwk.runPreFilterRemovePod(s, pi, r, ni),
        getWaitingPod: (uid) => this.waitingPods.get(uid),
        iterateOverWaitingPods: (fn) => this.waitingPods.forEach(fn),
        activate: (pods) => void this.queue.activate(pods.map((p) => p.metadata!.uid!)),
        api: { ...o.api, preemptVictim: (v, p, n) => (this.stats.victims++, o.api.preemptVictim(v, p, n)) },
        now: () => this.clock.now(),
      };
      fwk = new Framework(p, o.registry, handle);
      this.profiles.set(p.schedulerName, fwk);
      this.ctxs.set(fwk, { fwk, snap: this.cache, nextStartNodeIndex: 0, rand: this.rand });
    }
    const first = this.profiles.values().next().value!;
    const eventsByPlugin = new Map<string, any>();
    for (const f of this.profiles.values()) for (const [k, v] of f.eventsByPlugin()) eventsByPlugin.set(k, v);
    this.queue = new SchedulingQueue({
      less: (a, b) => (first.queueSort ? first.queueSort.less(a, b) : a.timestamp < b.timestamp),
      preEnqueue: (pod) => this.frameworkFor(pod)?.runPreEnqueue(pod) ?? null,
      eventsByPlugin,
      clock: this.clock,
      initialBackoffMs: o.config.podInitialBackoffSeconds * 1000,
      maxBackoffMs: o.config.podMaxBackoffSeconds * 1000,
      onNominatedChanged: (node) => {
        const ni = this.cache.get(node);
        if (ni) ni.nominated = this.queue.nominatedPodsFor(node);
      },
    });
  }

  frameworkFor(pod: Pod): Framework | undefined {
    return this.profiles.get(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME);
  }

  responsibleFor(pod: Pod): boolean {
    return !isAssigned(pod) && !isTerminal(pod) && this.frameworkFor(pod) !== undefined;
  }

  // Informer events.

  onPodAdd(pod: Pod): void {
    if (isAssigned(pod)) {
      this.written.delete(pod.metadata!.uid!);
      this.cache.addPod(newPodInfo(pod));
      this.queue.deleteNominated(pod.metadata!.uid!);
      this.queue.moveAllOnEvent({ resource: 'AssignedPod', action: 'Add', newObj: pod });
    } else if (this.responsibleFor(pod) && !pod.metadata?.deletionTimestamp) this.queue.add(pod);
  }

  onPodUpdate(old: Pod, pod: Pod): void {
    const uid = pod.metadata!.uid!;
    if (isAssigned(pod)) {
      if (!isAssigned(old)) {
        this.queue.delete(old);
        this.onPodAdd(pod);
        return;
      }
      const pi = newPodInfo(pod);
      const before = this.cache.podInfo(uid);
      this.cache.updatePod(pi);
      // Status-only updates (a kubelet reporting Running) change nothing plugins look at.
      for (const action of assignedPodUpdateActions(old, pod, before, pi)) this.queue.moveAllOnEvent({ resource: 'AssignedPod', action, oldObj: old, newObj: pod });
      return;
    }
    if (!this.responsibleFor(pod) || pod.metadata?.deletionTimestamp) {
      this.queue.delete(pod);
      return;
    }
    // An assumed pod's own status updates (our condition writes) need no new attempt.
    if (this.cache.isAssumed(uid)) return;
    this.queue.update(old, pod);
  }

  onPodDelete(pod: Pod): void {
    this.written.delete(pod.metadata!.uid!);
    if (isAssigned(pod)) {
      this.cache.removePod(pod.metadata!.uid!);
      this.queue.moveAllOnEvent({ resource: 'AssignedPod', action: 'Delete', oldObj: pod });
    } else this.queue.delete(pod);
  }

  onNodeAdd(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllOnEvent({ resource: 'Node', action: 'Add', newObj: node });
  }

  onNodeUpdate(old: Node, node: Node): void {
    this.cache.updateNode(old, node);
    for (const action of nodeUpdateActions(old, node)) this.queue.moveAllOnEvent({ resource: 'Node', action, oldObj: old, newObj: node });
  }

  onNodeDelete(node: Node): void {
    this.cache.removeNode(node);
    this.queue.moveAllOnEvent({ resource: 'Node', action: 'Delete', oldObj: node });
  }

  // Scheduling.

  /** Waits while too many bindings are in flight. */
  waitForBindingSlot(): Promise<void> {
    if (this.inFlight < this.maxInFlight) return Promise.resolve();
    return new Promise((r) => this.slotWaiters.push(r));
  }

  get bindingsInFlight(): number {
    return this.inFlight;
  }

  /** Pops and schedules one pod if any is active; returns false when activeQ was empty. */
  scheduleNext(): boolean {
    const q = this.queue.tryPop();
    if (!q) return false;
    const t0 = performance.now();
    this.scheduleOne(q);
    this.stats.cycleMs += performance.now() - t0;
    return true;
  }

  /** One scheduling cycle; the binding cycle continues asynchronously (its promise is returned). */
  scheduleOne(q: QueuedPodInfo): Promise<void> | undefined {
    const cycle = this.queue.schedulingCycleNumber;
    const pi = q.pi;
    const current = this.o.world.pod(pi.key);
    if (!current || current.metadata?.uid !== pi.uid || isAssigned(current) || current.metadata?.deletionTimestamp || this.cache.isAssumed(pi.uid)) {
      this.queue.done(pi.uid);
      return;
    }
    const fwk = this.frameworkFor(pi.pod);
    if (!fwk) {
      this.queue.done(pi.uid);
      return;
    }
    this.stats.attempts++;
    const state = new CycleState();
    const ctx = this.ctxs.get(fwk)!;
    const r = schedulePod(ctx, state, pi);
    if (r.kind === 'error') {
      this.stats.errors++;
      this.fail(q, cycle, Status.error(r.message), undefined);
      return;
    }
    if (r.kind === 'unschedulable') {
      this.stats.unschedulable++;
      const fe = r.fitError;
      let nominated: string | undefined;
      if (fwk.postFilter.length) {
        const pf = fwk.runPostFilter(state, pi, fe.statuses);
        nominated = pf.result?.nominatedNodeName;
        if (nominated) this.stats.preemptions++;
        if (pf.status.code !== Code.Success) fe.postFilterMsg = pf.status.message;
      }
      q.unschedulablePlugins = fe.unschedulablePlugins;
      this.fail(q, cycle, new Status(Code.Unschedulable, [fe.message()]), nominated);
      return;
    }
    const node = r.node;
    const assumed = withNodeName(pi, node);
    this.cache.assumePod(assumed);
    const rs = fwk.runReserve(state, assumed, node);
    if (rs) {
      fwk.runUnreserve(state, assumed, node);
      this.cache.forgetPod(assumed);
      q.unschedulablePlugins = rs.isRejected ? new Set([rs.plugin]) : new Set();
      this.fail(q, cycle, rs, undefined);
      return;
    }
    const permit = fwk.runPermit(state, assumed, node);
    if (permit.status && permit.status.code !== Code.Wait) {
      fwk.runUnreserve(state, assumed, node);
      this.cache.forgetPod(assumed);
      q.unschedulablePlugins = permit.status.isRejected ? new Set([permit.status.plugin]) : new Set();
      this.fail(q, cycle, permit.status, undefined);
      return;
    }
    let waiting: WaitingPod | undefined;
    if (permit.waits) {
      waiting = new WaitingPod(assumed, node, permit.waits, this.clock);
      this.waitingPods.add(waiting);
    }
    this.stats.scheduled++;
    this.queue.deleteNominated(pi.uid);
    this.queue.done(pi.uid);
    return this.bindingCycle(fwk, state, q, assumed, node, cycle, waiting);
  }

  private async bindingCycle(fwk: Framework, state: CycleState, q: QueuedPodInfo, assumed: PodInfo, node: string, cycle: number, waiting: WaitingPod | undefined): Promise<void> {
    if (waiting) {
      // As upstream's WaitOnPermit: every waiting plugin allows, or one rejects (or times out).
      // Waiting takes no binding slot: a gang waiting for its members must not stop them being scheduled.
      const ws = await waiting.wait();
      this.waitingPods.remove(assumed.uid);
      if (ws) {
        q.unschedulablePlugins = ws.plugin ? new Set([ws.plugin]) : new Set();
        this.bindingFailed(fwk, state, q, assumed, node, cycle, ws);
        return;
      }
    }
    this.inFlight++;
    try {
      let s = await fwk.runPreBind(state, assumed, node);
      if (!s) {
        s = await fwk.runBind(state, assumed, node);
        this.cache.finishBinding(assumed.uid);
      }
      if (s) throw Object.assign(new Error(s.message), { status: s });
      this.stats.bound++;
      const m = assumed.pod.metadata!;
      this.o.api.event(assumed.pod, 'Normal', 'Scheduled', `Successfully assigned ${m.namespace}/${m.name} to ${node}`);
      fwk.runPostBind(state, assumed, node);
    } catch (e) {
      this.stats.bindErrors++;
      q.unschedulablePlugins = new Set();
      this.bindingFailed(fwk, state, q, assumed, node, cycle, (e as any).status ?? Status.error((e as Error).message));
    } finally {
      this.inFlight--;
      const w = this.slotWaiters.shift();
      if (w) w();
    }
  }

  private bindingFailed(fwk: Framework, state: CycleState, q: QueuedPodInfo, assumed: PodInfo, node: string, cycle: number, st: Status): void {
    fwk.runUnreserve(state, assumed, node);
    this.cache.forgetPod(assumed);
    // The room the pod held is free again.
    this.queue.moveAllOnEvent({ resource: 'AssignedPod', action: 'Delete', oldObj: assumed.pod });
    this.fail(q, cycle, st, undefined);
  }

  /** Requeues a pod that did not get scheduled and tells the user why, as upstream's handleSchedulingFailure. */
  private fail(q: QueuedPodInfo, cycle: number, s: Status, nominated: string | undefined): void {
    const current = this.o.world.pod(q.pi.key);
    if (!current || current.metadata?.uid !== q.pi.uid || isAssigned(current)) {
      this.queue.done(q.pi.uid);
      return;
    }
    if (current !== q.pi.pod) q.pi = newPodInfo(current);
    if (nominated) this.queue.addNominated(q.pi, nominated);
    else if (nominated === '') this.queue.deleteNominated(q.pi.uid);
    this.queue.addUnschedulableIfNotPresent(q, cycle);
    const reason = s.isRejected ? 'Unschedulable' : 'SchedulerError';
    const msg = s.message;
    const uid = q.pi.uid;
    const w = `${reason}\u0000${msg}`;
    const repeat = this.written.get(uid) === w;
    // A repeat of the last failure is part of the same event series (upstream's recorder writes
    // series counts every 30 minutes): a pod retried thousands of times is not thousands of events.
    if (!repeat) this.o.api.event(current, 'Warning', 'FailedScheduling', msg);
    const cond = current.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const nnChanged = nominated !== undefined && (current.status?.nominatedNodeName ?? '') !== nominated;
    this.written.set(uid, w);
    if (!nnChanged && (repeat || (cond && cond.status === 'False' && cond.reason === reason && cond.message === msg))) return;
    void this.o.api.updateStatus(current, { reason, message: msg }, nnChanged ? nominated : undefined).catch(() => {
      if (this.written.get(uid) === w) this.written.delete(uid);
    });
  }

  /** Looks for expired assumed pods every second (with the injected clock) while the core runs. */
  private scheduleCleanup(): void {
    this.cleanupTimer = this.clock.setTimeout(() => {
      this.cleanupTimer = undefined;
      const expired = this.cache.cleanupExpiredAssumedPods();
      // Their room is free again: pods waiting for room may fit now.
      if (expired.length) this.queue.moveAllOnEvent({ resource: 'AssignedPod', action: 'Delete' });
      this.scheduleCleanup();
    }, CLEAN_ASSUMED_PERIOD_MS);
  }

  close(): void {
    if (this.cleanupTimer !== undefined) this.clock.clearTimeout(this.cleanupTimer);
    this.cleanupTimer = undefined;
    this.waitingPods.forEach((wp) => wp.reject('', 'scheduler stopped'));
    this.queue.close();
  }
}

/**
 * Which kinds of update an assigned pod had, as upstream's PodSchedulingPropertiesChange: label
 * changes, lower requests (scale down), and the start of its graceful deletion (an update of no
 * specific kind: it wakes only plugins registered for every update, such as spreading, which stops
 * counting terminating pods). Status-only updates give none.
 */
export function assignedPodUpdateActions(old: Pod, pod: Pod, before: PodInfo | undefined, after: PodInfo): ActionType[] {
  const out: ActionType[] = [];
  if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {})) out.push('UpdatePodLabel');
  if (before && anyLess(before.requests, after.requests)) out.push('UpdatePodScaleDown');
  if (!old.metadata?.deletionTimestamp && pod.metadata?.deletionTimestamp) out.push('Update');
  return out;
}

/** Which kinds of node update happened; heartbeat-only changes count as none. */
export function nodeUpdateActions(a: Node, b: Node): ActionType[] {
  const out: ActionType[] = [];
  const j = (x: unknown) => JSON.stringify(x ?? null);
  if (j(a.status?.allocatable) !== j(b.status?.allocatable)) out.push('UpdateNodeAllocatable');
  if (j(a.metadata?.labels) !== j(b.metadata?.labels)) out.push('UpdateNodeLabel');
  if (j(a.spec?.taints) !== j(b.spec?.taints) || !!a.spec?.unschedulable !== !!b.spec?.unschedulable) out.push('UpdateNodeTaint');
  const conds = (n: Node) => j((n.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message]));
  if (conds(a) !== conds(b)) out.push('UpdateNodeCondition');
  return out;
}
