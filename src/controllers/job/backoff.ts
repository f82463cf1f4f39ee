/**
 * The Job controller's pod-failure backoff (upstream's backoffRecord): after N consecutive pod
 * failures since the last success, new pods wait base·2^(N-1) (capped) from the last failure.
 * Pure: finish times come in, a delay comes out.
 */

export const DEFAULT_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 6 * 60_000;

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** Folds newly finished pods (their finish times, epoch ms) into the record. */
export function nextBackoffRecord(rec: BackoffRecord, succeeded: number[], failed: number[]): BackoffRecord {
  if (!succeeded.length) {
    if (!failed.length) return rec;
    return { failuresAfterLastSuccess: rec.failuresAfterLastSuccess + failed.length, lastFailureTime: Math.max(rec.lastFailureTime ?? -Infinity, ...failed) };
  }
  const lastSuccess = Math.max(...succeeded);
  const after = failed.filter((t) => t > lastSuccess);
  if (!after.length) return { failuresAfterLastSuccess: 0 };
  return { failuresAfterLastSuccess: after.length, lastFailureTime: Math.max(...after) };
}

/** How long to wait before creating pods again (0: now). */
export function remainingBackoff(rec: BackoffRecord, now: number, baseMs = DEFAULT_BACKOFF_MS, maxMs = MAX_BACKOFF_MS): number {
  if (rec.failuresAfterLastSuccess <= 0 || rec.lastFailureTime === undefined) return 0;
  const backoff = Math.min(maxMs, baseMs * 2 ** (rec.failuresAfterLastSuccess - 1));
  const elapsed = now - rec.lastFailureTime;
  return backoff <= elapsed ? 0 : backoff - elapsed;
}

/** When a pod finished: its containers' latest termination, else its Ready transition, else its deletion, else `now`. */
export function podFinishTime(p: any, now: number): number {
  let t = -Infinity;
  for (const cs of [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]) {
    const f = cs.state?.terminated?.finishedAt ? Date.parse(cs.state.terminated.finishedAt) : NaN;
    if (!Number.isNaN(f)) t = Math.max(t, f);
  }
  if (t > -Infinity) return t;
  const ready = (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready' && c.status === 'False');
  if (ready?.lastTransitionTime) return Date.parse(ready.lastTransitionTime);
  if (p.metadata?.deletionTimestamp) return Date.parse(p.metadata.deletionTimestamp);
  return now;
}
