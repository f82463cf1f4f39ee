/**
 * Which pods a ReplicaSet deletes first when scaling down, as upstream's ActivePodsWithRanks:
 * unassigned before assigned, Pending before Unknown before Running, not ready before ready,
 * lower pod-deletion-cost first, more co-located siblings first, ready for less time first,
 * more restarts first, newer first.
 */
import { isPodReady, podReadyCondition } from '../controller.js';

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(p: any): number {
  const v = p.metadata?.annotations?.[POD_DELETION_COST];
  const n = v === undefined ? 0 : Number(v);
  return Number.isFinite(n) ? n : 0;
}

function restarts(p: any): number {
  let n = 0;
  for (const c of p.status?.containerStatuses ?? []) n += c.restartCount ?? 0;
  return n;
}

function ts(s: string | undefined): number {
  return s ? Date.parse(s) : 0;
}

/** Negative when a should be deleted before b. `rank` is the number of related pods on each pod's node. */
export function compareForDeletion(a: any, b: any, rank: Map<any, number>): number {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  if ((na === '') !== (nb === '')) return na === '' ? -1 : 1;
  const pa = PHASE_ORDER[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = PHASE_ORDER[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  const ka = rank.get(a) ?? 0;
  const kb = rank.get(b) ?? 0;
  if (ka !== kb) return kb - ka;
  if (ra && rb) {
    const ta = ts(podReadyCondition(a)?.lastTransitionTime);
    const tb = ts(podReadyCondition(b)?.lastTransitionTime);
    if (ta !== tb) return tb - ta;
  }
  const xa = restarts(a);
  const xb = restarts(b);
  if (xa !== xb) return xb - xa;
  const ea = ts(a.metadata?.creationTimestamp);
  const eb = ts(b.metadata?.creationTimestamp);
  if (ea !== eb) return eb - ea;
  return 0;
}

/** The `n` pods to delete from `pods`; `related` (pods of sibling ReplicaSets too) decides co-location rank. */
export function podsToDelete(pods: any[], related: any[], n: number): any[] {
  if (n >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const node = p.spec?.nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = new Map<any, number>();
  for (const p of pods) rank.set(p, p.spec?.nodeName ? perNode.get(p.spec.nodeName) ?? 0 : 0);
  return [...pods].sort((a, b) => compareForDeletion(a, b, rank)).slice(0, n);
}
