/**
 * PodDisruptionBudget arithmetic (upstream's disruption controller), pure: from the pods the budget
 * selects and the scale of their controllers, the status fields the eviction subresource enforces.
 */
import { isPodReady } from '../controller.js';

/** Entries of status.disruptedPods expire after this long if the pod was never deleted (upstream DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

export interface BudgetInput {
  pdb: any;
  pods: any[];
  /** Sum of the selecting controllers' replicas; needed for percentages and maxUnavailable. undefined: unknown. */
  expectedFromControllers?: number;
  now: number;
}

export interface BudgetResult {
  status: any;
  /** When the next disruptedPods entry expires (epoch ms), to look again. */
  recheckAt?: number;
  /** Set when the expected count could not be computed (upstream then fails safe: no disruptions). */
  error?: string;
}

function scaled(v: number | string, total: number, roundUp: boolean): number | undefined {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return /^\d+$/.test(v) ? Number(v) : undefined;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

export function computeBudget({ pdb, pods, expectedFromControllers, now }: BudgetInput): BudgetResult {
  const spec = pdb.spec ?? {};
  // Drop disruptedPods entries whose pod is gone or deleted, or that timed out.
  const disrupted: Record<string, string> = {};
  let recheckAt: number | undefined;
  const byName = new Map(pods.map((p) => [p.metadata.name, p]));
  for (const [name, at] of Object.entries<string>(pdb.status?.disruptedPods ?? {})) {
    const p = byName.get(name);
    if (!p || p.metadata.deletionTimestamp) continue;
    const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (expires <= now) continue;
    disrupted[name] = at;
    recheckAt = Math.min(recheckAt ?? Infinity, expires);
  }
  const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && !disrupted[p.metadata.name] && isPodReady(p)).length;
  let expected: number;
  let desired: number;
  let error: string | undefined;
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    if (expectedFromControllers === undefined) error = 'found no controllers';
    expected = expectedFromControllers ?? 0;
    const mu = scaled(spec.maxUnavailable, expected, true) ?? 0;
    desired = Math.max(0, expected - mu);
  } else if (typeof spec.minAvailable === 'number') {
    expected = pods.length;
    desired = spec.minAvailable;
  } else if (typeof spec.minAvailable === 'string') {
    if (expectedFromControllers === undefined) error = 'found no controllers';
    expected = expectedFromControllers ?? 0;
    desired = scaled(spec.minAvailable, expected, true) ?? 0;
  } else {
    // Neither set: nothing is required, as upstream's getExpectedPodCount.
    expected = 0;
    desired = 0;
  }
  const allowed = error ? 0 : Math.max(0, healthy - desired);
  const status: any = {
    observedGeneration: pdb.metadata.generation,
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
  };
  if (Object.keys(disrupted).length) status.disruptedPods = disrupted;
  return { status, recheckAt, error };
}

/** The DisruptionAllowed condition for a status, as upstream's updatePdbStatus. */
export function disruptionAllowedCondition(status: any, prev: any[] | undefined, nowTime: string, syncFailed?: string): any {
  const c = syncFailed
    ? { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: syncFailed }
    : status.disruptionsAllowed > 0
      ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '' }
      : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '' };
  const old = (prev ?? []).find((x: any) => x.type === 'DisruptionAllowed');
  const same = old && old.status === c.status && old.reason === c.reason && old.message === c.message;
  return { ...c, observedGeneration: status.observedGeneration, lastTransitionTime: same ? old.lastTransitionTime : nowTime };
}
