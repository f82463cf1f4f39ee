import type { Clock } from '../client/workqueue.js';
import type { PodInfo } from './podinfo.js';
import { Code, Status, type MaybeStatus } from './status.js';

/** Upstream's cap on a Permit plugin's wait (maxTimeout). */
export const MAX_PERMIT_WAIT_MS = 15 * 60 * 1000;

/** A duration as Go's time.Duration prints it (1m30s, 500ms), for upstream's messages. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

/**
 * A pod that Permit plugins asked to wait, as upstream's waitingPod: each waiting plugin must
 * Allow it before its timeout; one Reject (or a timeout) ends the wait with Unschedulable.
 */
export class WaitingPod {
  private readonly pending = new Map<string, unknown>();
  private result: MaybeStatus | undefined;
  private resolve?: (s: MaybeStatus) => void;
  private readonly done: Promise<MaybeStatus>;

  constructor(
    readonly pi: PodInfo,
    readonly nodeName: string,
    waits: Map<string, number>,
    private readonly clock: Clock,
  ) {
    this.done = new Promise((r) => (this.resolve = r));
    for (const [plugin, ms] of waits) {
      const t = Math.min(ms, MAX_PERMIT_WAIT_MS);
      this.pending.set(
        plugin,
        clock.setTimeout(() => this.reject(plugin, `rejected due to timeout after waiting ${goDuration(t)} at plugin ${plugin}`), t),
      );
    }
  }

  /** Plugins that have not allowed the pod yet. */
  pendingPlugins(): string[] {
    return [...this.pending.keys()];
  }

  allow(plugin: string): void {
    const t = this.pending.get(plugin);
    if (t === undefined || this.result !== undefined) return;
    this.clock.clearTimeout(t);
    this.pending.delete(plugin);
    if (!this.pending.size) this.finish(null);
  }

  reject(plugin: string, msg: string): void {
    if (this.result !== undefined) return;
    this.finish(new Status(Code.Unschedulable, [msg]).withPlugin(plugin));
  }

  /** Resolves once every plugin allowed (null) or one rejected (its status). */
  wait(): Promise<MaybeStatus> {
    return this.done;
  }

  private finish(s: MaybeStatus): void {
    this.result = s;
    for (const t of this.pending.values()) this.clock.clearTimeout(t);
    this.pending.clear();
    this.resolve!(s);
  }
}

/** The pods waiting at Permit, by uid, as upstream's waitingPodsMap. */
export class WaitingPods {
  private readonly pods = new Map<string, WaitingPod>();
  add(wp: WaitingPod): void {
    this.pods.set(wp.pi.uid, wp);
  }
  remove(uid: string): void {
    this.pods.delete(uid);
  }
  get(uid: string): WaitingPod | undefined {
    return this.pods.get(uid);
  }
  forEach(fn: (wp: WaitingPod) => void): void {
    for (const wp of [...this.pods.values()]) fn(wp);
  }
  get size(): number {
    return this.pods.size;
  }
}
