/**
 * Node health and condition taints (upstream's node lifecycle controller), pure: when a node's
 * status or Lease stops changing for the grace period, its conditions become Unknown; conditions map
 * to taints (Ready False → not-ready, Unknown → unreachable, each NoSchedule and NoExecute; pressure
 * conditions → NoSchedule; spec.unschedulable → unschedulable:NoSchedule).
 */
import type { Taint, Toleration } from '../daemonset/eligibility.js';
import { toleratesTaint } from '../daemonset/eligibility.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
const PRESSURE: Record<string, string> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
  NetworkUnavailable: 'node.kubernetes.io/network-unavailable',
};
/** Taints this controller owns; any others on the node are left alone. */
const MANAGED = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, ...Object.values(PRESSURE)]);

/** What the controller last saw of a node, in its own clock (so skew with the kubelet doesn't matter). */
export interface HealthRecord {
  probeTimestamp: number;
  heartbeat?: string;
  leaseRenew?: string;
}

/** Folds the node's current heartbeat and Lease renewal into the record: any change is a sign of life. */
export function observeHealth(rec: HealthRecord | undefined, node: any, lease: any, now: number): HealthRecord {
  const ready = readyCondition(node);
  const heartbeat = ready?.lastHeartbeatTime ?? undefined;
  const leaseRenew = lease?.spec?.renewTime ?? undefined;
  if (!rec) return { probeTimestamp: now, heartbeat, leaseRenew };
  const alive = (heartbeat && heartbeat !== rec.heartbeat) || (leaseRenew && leaseRenew !== rec.leaseRenew);
  return { probeTimestamp: alive ? now : rec.probeTimestamp, heartbeat, leaseRenew };
}

export function readyCondition(node: any): any | undefined {
  return (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
}

/**
 * The node's conditions once the grace period passed without a sign of life: Ready and the pressure
 * conditions become Unknown (added if the kubelet never posted them). Undefined: nothing to change.
 */
export function staleConditions(node: any, rec: HealthRecord, now: number, gracePeriodMs: number, startupGracePeriodMs: number, nowTime: string): any[] | undefined {
  const ready = readyCondition(node);
  const grace = ready ? gracePeriodMs : startupGracePeriodMs;
  if (now <= rec.probeTimestamp + grace) return undefined;
  const conds: any[] = structuredClone(node.status?.conditions ?? []);
  let changed = false;
  for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
    const c = conds.find((x) => x.type === type);
    if (!c) {
      conds.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: nowTime });
      changed = true;
    } else if (c.status !== 'Unknown') {
      Object.assign(c, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: nowTime });
      changed = true;
    }
  }
  return changed ? conds : undefined;
}

/** The condition-driven taints the node should carry. */
export function desiredTaints(node: any): Taint[] {
  const out: Taint[] = [];
  const ready = readyCondition(node);
  if (ready?.status === 'False') out.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NOT_READY, effect: 'NoExecute' });
  else if (!ready || ready.status === 'Unknown') out.push({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute' });
  for (const c of node.status?.conditions ?? []) if (PRESSURE[c.type] && c.status === 'True') out.push({ key: PRESSURE[c.type], effect: 'NoSchedule' });
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return out;
}

/** The node's taints with the managed ones reconciled to `desired`; undefined if already so. NoExecute taints get timeAdded. */
export function reconcileTaints(current: Taint[] | undefined, desired: Taint[], nowTime: string): Taint[] | undefined {
  const cur = current ?? [];
  const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
  const keep = cur.filter((t) => !MANAGED.has(t.key) || desired.some((d) => same(d, t)));
  const add = desired.filter((d) => !cur.some((t) => same(d, t))).map((d) => (d.effect === 'NoExecute' ? { ...d, timeAdded: nowTime } : d));
  if (keep.length === cur.length && !add.length) return undefined;
  return [...keep, ...add];
}

/**
 * When a pod on a node with these NoExecute taints must go (upstream's taint eviction): now if some
 * taint is not tolerated; else at the earliest taint time plus the smallest tolerationSeconds of the
 * tolerations used; never if those tolerate forever. Returns epoch ms, 'never', or undefined (no NoExecute taints).
 */
export function evictionTime(taints: Taint[] | undefined, tolerations: Toleration[] | undefined, now: number): number | 'never' | undefined {
  const noExec = (taints ?? []).filter((t) => t.effect === 'NoExecute');
  if (!noExec.length) return undefined;
  let minSeconds = Infinity;
  let since = Infinity;
  for (const taint of noExec) {
    const used = (tolerations ?? []).filter((t) => toleratesTaint(t, taint));
    if (!used.length) return now;
    for (const t of used) if (typeof t.tolerationSeconds === 'number') minSeconds = Math.min(minSeconds, Math.max(0, t.tolerationSeconds));
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : now;
    since = Math.min(since, Number.isNaN(added) ? now : added);
  }
  if (minSeconds === Infinity) return 'never';
  return since + minSeconds * 1000;
}
