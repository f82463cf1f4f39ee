import { realClock, type Clock } from '../client/workqueue.js';
import { KeyedHeap } from './heap.js';
import type { ActionType, ClusterEvent } from './interface.js';
import { newPodInfo, type PodInfo } from './podinfo.js';
import type { MaybeStatus } from './status.js';
import { NO_NOMINATED } from './nodeinfo.js';
import type { Pod } from './types.js';

/** A pod waiting in the scheduling queue, as upstream's QueuedPodInfo. */
export interface QueuedPodInfo {
  pi: PodInfo;
  /** When it (re-)entered the queue: orders equal priorities and starts backoff. */
  timestamp: number;
  attempts: number;
  initialAttemptTimestamp?: number;
  /** Plugins that rejected it last time: only events they care about bring it back. */
  unschedulablePlugins: Set<string>;
  /** Held back by a PreEnqueue plugin (scheduling gates). */
  gated: boolean;
}

export interface QueueEvent {
  resource: ClusterEvent['resource'];
  action: ActionType;
  /** The object before and after the change, for QueueingHints (oldObj undefined on add, newObj on delete). */
  oldObj?: unknown;
  newObj?: unknown;
}

export interface QueueOptions {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
  preEnqueue(pod: Pod): MaybeStatus;
  /** Plugin name → events that may make pods it rejected schedulable. */
  eventsByPlugin: Map<string, ClusterEvent[]>;
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Pods stuck in unschedulable longer than this are retried anyway (upstream: 5 min). */
  maxUnschedulableMs?: number;
  /** A node's nominated pods changed (nominatedPodsFor gives the new list). */
  onNominatedChanged?: (node: string) => void;
  /** Upstream's SchedulerPopFromBackoffQ feature gate (default on, as since 1.33). */
  popFromBackoffQ?: boolean;
}

export const EVENT_UNSCHEDULABLE_TIMEOUT: QueueEvent = { resource: '*', action: 'Update' };

/**
 * The scheduling queue with upstream's three parts: activeQ (a heap in QueueSort order), backoffQ
 * (pods waiting out their exponential backoff) and unschedulablePods (parked until a cluster event
 * that one of their rejecting plugins registered for). Also the nominator: pods nominated to a node
 * by preemption, which lower-priority pods must leave room for.
 */
export class SchedulingQueue {
  private readonly active: KeyedHeap<QueuedPodInfo>;
  /** Pods a plugin rejected, backing off; popped early when activeQ is empty (see tryPop). */
  private readonly backoff: KeyedHeap<QueuedPodInfo>;
  /** Pods whose cycle failed with an error: they always wait out their backoff. */
  private readonly errorBackoff: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Set<string>();
  /** In-flight pods to put straight into activeQ if their cycle fails (activated meanwhile). */
  private readonly activateWhenDone = new Set<string>();
  private readonly clock: Clock;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxUnschedulable: number;
  private schedulingCycle = 0;
  private moveRequestCycle = -1;
  private waiters: ((q: QueuedPodInfo | undefined) => void)[] = [];
  private closed = false;
  private backoffTimer: unknown;
  private backoffTimerAt = Infinity;
  private leftoverTimer: unknown;
  private readonly nominatedByNode = new Map<string, Map<string, PodInfo>>();
  private readonly nominatedNodeOf = new Map<string, string>();
  /** nominatedPodsFor's answers, dropped when the node's nominations change (filters ask once per node per cycle). */
  private readonly nominatedLists = new Map<string, PodInfo[]>();

  constructor(private readonly o: QueueOptions) {
    this.clock = o.clock ?? realClock;
    this.initialBackoff = o.initialBackoffMs ?? 1000;
    this.maxBackoff = o.maxBackoffMs ?? 10_000;
    this.maxUnschedulable = o.maxUnschedulableMs ?? 5 * 60_000;
    const key = (q: QueuedPodInfo) => q.pi.uid;
    this.active = new KeyedHeap(key, o.less);
    const byExpiry = (a: QueuedPodInfo, b: QueuedPodInfo) => this.backoffExpiry(a) < this.backoffExpiry(b);
    // Equal expiries pop in activeQ order, as upstream's lessBackoffCompletedWithPriority.
    this.backoff = new KeyedHeap(key, (a, b) => {
      const ea = this.backoffExpiry(a);
      const eb = this.backoffExpiry(b);
      return ea !== eb ? ea < eb : o.less(a, b);
    });
    this.errorBackoff = new KeyedHeap(key, byExpiry);
    this.scheduleLeftoverFlush();
  }

  get schedulingCycleNumber(): number {
    return this.schedulingCycle;
  }

  /** Sizes, for tests and metrics. */
  counts(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.active.size, backoff: this.backoff.size + this.errorBackoff.size, unschedulable: this.unschedulable.size };
  }

  has(uid: string): boolean {
    return this.active.has(uid) || this.backoff.has(uid) || this.errorBackoff.has(uid) || this.unschedulable.has(uid);
  }

  where(uid: string): 'active' | 'backoff' | 'unschedulable' | undefined {
    if (this.active.has(uid)) return 'active';
    if (this.backoff.has(uid) || this.errorBackoff.has(uid)) return 'backoff';
    if (this.unschedulable.has(uid)) return 'unschedulable';
    return undefined;
  }

  /** A new unscheduled pod. */
  add(pod: Pod): void {
    const pi = newPodInfo(pod);
    const q: QueuedPodInfo = { pi, timestamp: this.clock.now(), attempts: 0, unschedulablePlugins: new Set(), gated: false };
    this.updateNominated(pi);
    this.moveToActive(q);
  }

  /** Runs PreEnqueue plugins: a gated pod waits in unschedulablePods (returns true). */
  private gate(q: QueuedPodInfo): boolean {
    const s = this.o.preEnqueue(q.pi.pod);
    if (!s) {
      q.gated = false;
      return false;
    }
    q.gated = true;
    q.unschedulablePlugins = new Set([s.plugin]);
    this.unschedulable.set(q.pi.uid, q);
    return true;
  }

  private moveToActive(q: QueuedPodInfo): void {
    if (this.gate(q)) return;
    const w = this.waiters.shift();
    if (w) {
      this.startCycle(q);
      w(q);
      return;
    }
    this.active.push(q);
  }

  private startCycle(q: QueuedPodInfo): void {
    this.schedulingCycle++;
    q.attempts++;
    q.initialAttemptTimestamp ??= this.clock.now();
    this.inFlight.add(q.pi.uid);
  }

  /**
   * The next pod to schedule, without waiting. When activeQ is empty, the backoffQ pod due first
   * goes now rather than leaving the scheduler idle, as upstream's SchedulerPopFromBackoffQ (on by
   * default since 1.33); pods that failed with an error still wait out their backoff.
   */
  tryPop(): QueuedPodInfo | undefined {
    const q = this.active.pop() ?? (this.o.popFromBackoffQ === false ? undefined : this.backoff.pop());
    if (q) this.startCycle(q);
    return q;
  }

  /** The next pod to schedule; waits while activeQ is empty; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    const q = this.tryPop();
    if (q || this.closed) return Promise.resolve(q);
    return new Promise((r) => this.waiters.push(r));
  }

  /** The scheduling cycle of a popped pod has ended (bound, assumed or requeued). */
  done(uid: string): void {
    this.inFlight.delete(uid);
    this.activateWhenDone.delete(uid);
  }

  /**
   * Moves pods from unschedulablePods or backoffQ straight to activeQ, as upstream's Activate (a
   * Permit plugin waking a gang's siblings); a pod in its scheduling cycle goes to activeQ if the
   * cycle fails. Gated pods go through PreEnqueue again (and stay if still gated). Returns how many
   * reached activeQ.
   */
  activate(uids: Iterable<string>): number {
    let n = 0;
    for (const uid of uids) {
      const u = this.unschedulable.get(uid);
      if (u) {
        this.unschedulable.delete(uid);
        this.moveToActive(u);
        if (!u.gated) n++;
        continue;
      }
      const b = this.backoff.get(uid) ?? this.errorBackoff.get(uid);
      if (b) {
        this.backoff.delete(uid);
        this.errorBackoff.delete(uid);
        this.moveToActive(b);
        n++;
        continue;
      }
      if (this.inFlight.has(uid)) this.activateWhenDone.add(uid);
    }
    return n;
  }

  backoffDuration(q: QueuedPodInfo): number {
    let d = this.initialBackoff;
    for (let i = 1; i < q.attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoff) return this.maxBackoff;
    }
    return Math.min(d, this.maxBackoff);
  }

  private backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDuration(q);
  }

  isBackingOff(q: QueuedPodInfo): boolean {
    return this.backoffExpiry(q) > this.clock.now();
  }

  /**
   * A pod that failed its scheduling cycle. If a cluster event arrived during that cycle it may
   * already be schedulable, so it goes to backoffQ rather than waiting for another event; pods that
   * failed with an error (no rejecting plugin) also go to backoffQ.
   */
  addUnschedulableIfNotPresent(q: QueuedPodInfo, podSchedulingCycle: number): void {
    const uid = q.pi.uid;
    this.inFlight.delete(uid);
    if (this.has(uid)) return;
    q.timestamp = this.clock.now();
    if (this.activateWhenDone.delete(uid)) this.moveToActive(q);
    else if (this.moveRequestCycle >= podSchedulingCycle || q.unschedulablePlugins.size === 0) this.pushBackoff(q);
    else this.unschedulable.set(uid, q);
  }

  /**
   * PreEnqueue runs on the way into backoffQ (a gated pod waits in unschedulablePods instead), as
   * upstream does now that backoffQ pods may be popped early.
   */
  private pushBackoff(q: QueuedPodInfo): void {
    if (this.gate(q)) return;
    (q.unschedulablePlugins.size === 0 ? this.errorBackoff : this.backoff).push(q);
    this.armBackoffTimer();
  }

  private armBackoffTimer(): void {
    const a = this.backoff.peek();
    const b = this.errorBackoff.peek();
    if ((!a && !b) || this.closed) return;
    const at = Math.min(a ? this.backoffExpiry(a) : Infinity, b ? this.backoffExpiry(b) : Infinity);
    if (at >= this.backoffTimerAt) return;
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
    this.backoffTimerAt = at;
    this.backoffTimer = this.clock.setTimeout(() => {
      this.backoffTimer = undefined;
      this.backoffTimerAt = Infinity;
      this.flushBackoffCompleted();
    }, Math.max(0, at - this.clock.now()));
  }

  /** Moves pods whose backoff has expired to activeQ. */
  flushBackoffCompleted(): void {
    const now = this.clock.now();
    for (const heap of [this.backoff, this.errorBackoff]) {
      for (;;) {
        const top = heap.peek();
        if (!top || this.backoffExpiry(top) > now) break;
        heap.pop();
        this.moveToActive(top);
      }
    }
    this.armBackoffTimer();
  }

  private scheduleLeftoverFlush(): void {
    if (this.closed) return;
    this.leftoverTimer = this.clock.setTimeout(() => {
      this.flushUnschedulableLeftover();
      this.scheduleLeftoverFlush();
    }, 30_000);
  }

  /** Pods parked longer than maxUnschedulable get another try. */
  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    const stale = [...this.unschedulable.values()].filter((q) => !q.gated && now - q.timestamp > this.maxUnschedulable);
    this.movePods(stale, EVENT_UNSCHEDULABLE_TIMEOUT);
  }

  /** An unscheduled pod changed. */
  update(oldPod: Pod | undefined, newPod: Pod): void {
    const uid = newPod.metadata!.uid!;
    const pi = newPodInfo(newPod);
    this.updateNominated(pi);
    for (const heap of [this.active, this.backoff, this.errorBackoff]) {
      const q = heap.get(uid);
      if (q) {
        q.pi = pi;
        heap.push(q);
        return;
      }
    }
    const q = this.unschedulable.get(uid);
    if (q) {
      q.pi = pi;
      if (!oldPod || specChanged(oldPod, newPod)) {
        this.unschedulable.delete(uid);
        if (q.gated || !this.isBackingOff(q)) this.moveToActive(q);
        else this.pushBackoff(q);
      }
      return;
    }
    if (!this.inFlight.has(uid)) this.add(newPod);
  }

  delete(pod: Pod): void {
    const uid = pod.metadata!.uid!;
    this.active.delete(uid);
    this.backoff.delete(uid);
    this.errorBackoff.delete(uid);
    this.unschedulable.delete(uid);
    this.deleteNominated(uid);
  }

  /**
   * A cluster event: parked pods that a plugin interested in it rejected move to activeQ (or
   * backoffQ while backing off). Pods in their scheduling cycle now will go to backoffQ.
   */
  moveAllOnEvent(ev: QueueEvent, filter?: (q: QueuedPodInfo) => boolean): void {
    const pods: QueuedPodInfo[] = [];
    // Gated pods move too when their gating plugin registered for the event: PreEnqueue runs again.
    for (const q of this.unschedulable.values()) if ((!filter || filter(q)) && this.interested(q, ev)) pods.push(q);
    this.movePods(pods, ev);
    this.moveRequestCycle = this.schedulingCycle;
  }

  /**
   * Whether one of the plugins that rejected the pod registered for the event and, if it gave a
   * QueueingHint, the hint says Queue (as upstream's isPodWorthRequeuing).
   */
  private interested(q: QueuedPodInfo, ev: QueueEvent): boolean {
    if (ev.resource === '*' || q.unschedulablePlugins.size === 0) return true;
    for (const p of q.unschedulablePlugins) {
      for (const e of this.o.eventsByPlugin.get(p) ?? []) {
        if (!eventMatches(e, ev)) continue;
        if (!e.hint) return true;
        try {
          if (e.hint(q.pi, ev.oldObj, ev.newObj) === 'Queue') return true;
        } catch {
          return true;
        }
      }
    }
    return false;
  }

  private movePods(pods: QueuedPodInfo[], _ev: QueueEvent): void {
    for (const q of pods) {
      this.unschedulable.delete(q.pi.uid);
      // A gated pod does not back off (as upstream's isPodBackingoff): PreEnqueue decides again now.
      if (!q.gated && this.isBackingOff(q)) this.pushBackoff(q);
      else this.moveToActive(q);
    }
  }

  // Nominator.

  private updateNominated(pi: PodInfo): void {
    const node = pi.pod.status?.nominatedNodeName;
    if (node) this.addNominated(pi, node);
    else if (this.nominatedNodeOf.has(pi.uid) && !pi.pod.spec?.nodeName) {
      // Keep a nomination made in this process until the status catches up; refresh its PodInfo.
      const n = this.nominatedNodeOf.get(pi.uid)!;
      this.nominatedByNode.get(n)?.set(pi.uid, pi);
      this.nominationsChanged(n);
    }
  }

  addNominated(pi: PodInfo, node: string): void {
    this.deleteNominated(pi.uid);
    let m = this.nominatedByNode.get(node);
    if (!m) this.nominatedByNode.set(node, (m = new Map()));
    m.set(pi.uid, pi);
    this.nominatedNodeOf.set(pi.uid, node);
    this.nominationsChanged(node);
  }

  deleteNominated(uid: string): void {
    const n = this.nominatedNodeOf.get(uid);
    if (n === undefined) return;
    this.nominatedNodeOf.delete(uid);
    const m = this.nominatedByNode.get(n);
    m?.delete(uid);
    if (m && !m.size) this.nominatedByNode.delete(n);
    this.nominationsChanged(n);
  }

  private nominationsChanged(node: string): void {
    this.nominatedLists.delete(node);
    this.o.onNominatedChanged?.(node);
  }

  nominatedNodeFor(uid: string): string | undefined {
    return this.nominatedNodeOf.get(uid);
  }

  /** The pods nominated to a node. Read-only: the array is shared until the nominations change. */
  nominatedPodsFor(node: string): PodInfo[] {
    const m = this.nominatedByNode.get(node);
    if (!m) return NO_NOMINATED;
    let l = this.nominatedLists.get(node);
    if (!l) this.nominatedLists.set(node, (l = [...m.values()]));
    return l;
  }

  get hasNominatedPods(): boolean {
    return this.nominatedByNode.size > 0;
  }

  close(): void {
    this.closed = true;
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
    if (this.leftoverTimer !== undefined) this.clock.clearTimeout(this.leftoverTimer);
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }
}


/** Whether a registration covers an event: a registered 'Update' covers every kind of update. */
export function eventMatches(e: ClusterEvent, ev: QueueEvent): boolean {
  if (e.resource !== ev.resource && e.resource !== '*') return false;
  if (e.actions === '*' || e.actions.includes(ev.action)) return true;
  return ev.action.startsWith('Update') && e.actions.includes('Update');
}

/** Whether an update is worth a new attempt: anything but status and bookkeeping metadata changed. */
export function specChanged(a: Pod, b: Pod): boolean {
  const strip = (p: Pod) => {
    const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...meta } = p.metadata ?? {};
    return JSON.stringify({ meta, spec: p.spec });
  };
  return strip(a) !== strip(b);
}
