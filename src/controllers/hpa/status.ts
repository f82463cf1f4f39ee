/**
 * HorizontalPodAutoscaler (autoscaling/v2) status helpers, as upstream's setCondition /
 * setStatus: conditions keep their order of first appearance and change lastTransitionTime only
 * when their status flips.
 */

export type ConditionType = 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';

export interface HpaCondition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** RFC 3339 at second precision, as metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function setCondition(status: any, type: ConditionType, s: 'True' | 'False', reason: string, message: string, now: number): void {
  const list: HpaCondition[] = (status.conditions ??= []);
  let c = list.find((x) => x.type === type);
  if (!c) list.push((c = { type, status: 'Unknown' }));
  if (c.status !== s) c.lastTransitionTime = rfc3339(now);
  c.status = s;
  c.reason = reason;
  c.message = message;
}

/**
 * The whole status rebuilt (upstream's setStatus): observedGeneration and anything else not named
 * here is dropped; lastScaleTime moves only on a rescale; empty metric lists are omitted.
 */
export function buildStatus(prev: any, currentReplicas: number, desiredReplicas: number, currentMetrics: any[] | undefined, rescale: boolean, now: number): any {
  const s: any = {};
  if (rescale) s.lastScaleTime = rfc3339(now);
  else if (prev?.lastScaleTime) s.lastScaleTime = prev.lastScaleTime;
  if (currentReplicas) s.currentReplicas = currentReplicas;
  s.desiredReplicas = desiredReplicas;
  if (currentMetrics?.length) s.currentMetrics = currentMetrics;
  if (prev?.conditions?.length) s.conditions = prev.conditions;
  return s;
}

/** Order-insensitive for keys, order-sensitive for arrays: is a status write needed? */
export function sameStatus(a: unknown, b: unknown): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

/** Go's %+v of a *metav1.LabelSelector (its generated String()), as upstream's external-metric errors print it. */
export function goLabelSelector(sel: any): string {
  if (!sel) return 'nil';
  const ml = Object.keys(sel.matchLabels ?? {})
    .sort()
    .map((k) => `${k}: ${sel.matchLabels[k]},`)
    .join('');
  const me = (sel.matchExpressions ?? [])
    .map((e: any) => `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${(e.values ?? []).join(' ')}],},`)
    .join('');
  return `&LabelSelector{MatchLabels:map[string]string{${ml}},MatchExpressions:[]LabelSelectorRequirement{${me}},}`;
}
