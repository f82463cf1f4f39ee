/** Pure Deployment arithmetic, as upstream's deploymentutil: surge/unavailable, revisions, conditions, status. */
import { computeHash } from '../controller.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH = 'pod-template-hash';
const SKIP_COPY = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, 'deprecated.deployment.rollback.to']);

export const NO_DEADLINE = 2147483647;

/** intstr: an int, or "N%" of total rounded up (surge) or down (unavailable). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, dflt: string): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) return Number(x) || 0;
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

export function replicasOf(d: any): number {
  return d.spec?.replicas ?? 1;
}

export function isRollingUpdate(d: any): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** [maxSurge, maxUnavailable], never both zero (upstream's ResolveFenceposts). */
export function fenceposts(d: any): [number, number] {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const n = replicasOf(d);
  const surge = scaledValue(ru.maxSurge, n, true, '25%');
  const unavailable = scaledValue(ru.maxUnavailable, n, false, '25%');
  if (surge === 0 && unavailable === 0) return [0, 1];
  return [surge, unavailable];
}

export function maxSurge(d: any): number {
  return isRollingUpdate(d) ? fenceposts(d)[0] : 0;
}

export function maxUnavailable(d: any): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(fenceposts(d)[1], replicasOf(d));
}

export function specReplicas(rs: any): number {
  return rs?.spec?.replicas ?? 0;
}

export const sum = (rss: any[], f: (rs: any) => number): number => rss.reduce((a, rs) => a + (rs ? f(rs) : 0), 0);
export const totalSpec = (rss: any[]) => sum(rss, specReplicas);
export const totalActual = (rss: any[]) => sum(rss, (rs) => rs.status?.replicas ?? 0);
export const totalReady = (rss: any[]) => sum(rss, (rs) => rs.status?.readyReplicas ?? 0);
export const totalAvailable = (rss: any[]) => sum(rss, (rs) => rs.status?.availableReplicas ?? 0);

export function revisionOf(obj: any): number {
  const v = obj?.metadata?.annotations?.[REVISION];
  const n = v === undefined ? 0 : Number(v);
  return Number.isFinite(n) ? n : 0;
}

export function maxRevision(rss: any[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

/** Null, [] and {} count as absent: upstream compares with semantic equality, where nil and empty are one. */
function isEmpty(x: unknown): boolean {
  return x === undefined || x === null || (Array.isArray(x) && x.length === 0) || (typeof x === 'object' && !Array.isArray(x) && Object.keys(x as object).every((k) => isEmpty((x as any)[k])));
}

function stable(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  return `{${Object.keys(v as object)
    .filter((k) => !isEmpty((v as any)[k]))
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stable((v as any)[k])}`)
    .join(',')}}`;
}

/** Templates equal apart from the pod-template-hash label (upstream's EqualIgnoreHash). */
export function equalIgnoreHash(a: any, b: any): boolean {
  const strip = (t: any) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) {
      delete c.metadata.labels[POD_TEMPLATE_HASH];
      if (!Object.keys(c.metadata.labels).length) delete c.metadata.labels;
    }
    return stable(c);
  };
  return strip(a) === strip(b);
}

export function templateHash(d: any): string {
  return computeHash(d.spec?.template, d.status?.collisionCount);
}

const created = (o: any) => Date.parse(o.metadata?.creationTimestamp ?? '') || 0;
/** Oldest first, then by name, as upstream's ReplicaSetsByCreationTimestamp. */
export function byCreation(a: any, b: any): number {
  return created(a) - created(b) || String(a.metadata.name).localeCompare(b.metadata.name);
}

/** The ReplicaSet whose template is the Deployment's: the oldest such, as upstream. */
export function findNewRS(d: any, rss: any[]): any | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Replicas the new ReplicaSet should have now (upstream's NewRSNewReplicas). */
export function newRSNewReplicas(d: any, all: any[], newRS: any | undefined): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const cur = specReplicas(newRS);
  const current = totalSpec(all);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (current >= maxTotal) return cur;
  const up = Math.min(maxTotal - current, replicasOf(d) - cur);
  return cur + Math.max(0, up);
}

/** Annotations a ReplicaSet carries for its Deployment; returns true if anything changed. */
export function setNewRSAnnotations(d: any, rs: any, newRevision: number, exists: boolean): boolean {
  rs.metadata.annotations ??= {};
  const a = rs.metadata.annotations;
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (SKIP_COPY.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const old = a[REVISION];
  const oldN = old === undefined ? 0 : Number(old);
  if (oldN < newRevision) {
    a[REVISION] = String(newRevision);
    changed = true;
    if (old) {
      // A template brought back by an undo keeps the list of revisions it has had.
      const hist = a[REVISION_HISTORY] ? a[REVISION_HISTORY].split(',') : [];
      hist.push(old);
      a[REVISION_HISTORY] = hist.join(',');
    }
  }
  if (!exists) {
    a[DESIRED_REPLICAS] = String(replicasOf(d));
    a[MAX_REPLICAS] = String(replicasOf(d) + maxSurge(d));
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: any, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations ?? {};
  return a[DESIRED_REPLICAS] !== String(desired) || a[MAX_REPLICAS] !== String(max);
}

export function desiredReplicasAnnotation(rs: any): number | undefined {
  const v = rs.metadata?.annotations?.[DESIRED_REPLICAS];
  return v === undefined || !Number.isInteger(Number(v)) ? undefined : Number(v);
}

export function maxReplicasAnnotation(rs: any): number | undefined {
  const v = rs.metadata?.annotations?.[MAX_REPLICAS];
  return v === undefined || !Number.isInteger(Number(v)) ? undefined : Number(v);
}

// ---------------------------------------------------------------------------------------------
// Conditions

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

export function condition(status: any, type: string): DeploymentCondition | undefined {
  return (status?.conditions ?? []).find((c: any) => c.type === type);
}

export function newCondition(type: string, st: DeploymentCondition['status'], reason: string, message: string, now: string): DeploymentCondition {
  return { type, status: st, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/** Upstream's SetDeploymentCondition: same status and reason is no change; same status keeps the transition time. */
export function setCondition(status: any, c: DeploymentCondition): void {
  const cur = condition(status, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((x: any) => x.type !== c.type), c];
}

export function removeCondition(status: any, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c: any) => c.type !== type);
  if (!status.conditions.length) delete status.conditions;
}

export const Reasons = {
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  NewRSAvailable: 'NewReplicaSetAvailable',
  TimedOut: 'ProgressDeadlineExceeded',
  RSUpdated: 'ReplicaSetUpdated',
  FoundNewRS: 'FoundNewReplicaSet',
  NewRSCreated: 'NewReplicaSetCreated',
  FailedRSCreate: 'ReplicaSetCreateError',
  Paused: 'DeploymentPaused',
  Resumed: 'DeploymentResumed',
} as const;

export function hasProgressDeadline(d: any): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== null && s !== NO_DEADLINE;
}

/** Status from the ReplicaSets, with Available set, as upstream's calculateStatus. */
export function calculateStatus(all: any[], newRS: any | undefined, d: any, now: string): any {
  const available = totalAvailable(all);
  const unavailable = Math.max(0, totalSpec(all) - available);
  const status: any = {
    observedGeneration: d.metadata.generation,
    replicas: totalActual(all),
    updatedReplicas: totalActual(newRS ? [newRS] : []),
    readyReplicas: totalReady(all),
    availableReplicas: available,
    unavailableReplicas: unavailable,
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions) status.conditions = structuredClone(d.status.conditions);
  if (available >= replicasOf(d) - maxUnavailable(d)) setCondition(status, newCondition('Available', 'True', Reasons.MinimumReplicasAvailable, 'Deployment has minimum availability.', now));
  else setCondition(status, newCondition('Available', 'False', Reasons.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  return status;
}

export function deploymentComplete(d: any, s: any): boolean {
  const n = replicasOf(d);
  return (s.updatedReplicas ?? 0) === n && (s.replicas ?? 0) === n && (s.availableReplicas ?? 0) === n && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

export function deploymentProgressing(d: any, s: any): boolean {
  const o = d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) || newOld < oldOld || (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0);
}

export function deploymentTimedOut(d: any, s: any, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = condition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === Reasons.NewRSAvailable) return false;
  if (c.reason === Reasons.TimedOut) return true;
  const from = Date.parse(c.lastUpdateTime);
  return from + d.spec.progressDeadlineSeconds * 1000 < nowMs;
}

export function sameStatus(a: any, b: any): boolean {
  return stable(a ?? {}) === stable(b ?? {});
}
