/**
 * APIService helpers shared by the strategy, the controller and the proxy: conditions as
 * kube-aggregator's apiregistration helpers set them, and the built-in (local) APIServices that
 * upstream's autoregister controller keeps for every group/version the server itself serves.
 */
export const AVAILABLE = 'Available';
/** Label upstream puts on APIServices it manages: "onstart" (built-in groups) or "true" (CRD groups). */
export const AUTOMANAGED_LABEL = 'kube-aggregator.kubernetes.io/automanaged';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ServiceRef {
  namespace: string;
  name: string;
  port: number;
}

const rfc3339 = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** What a local APIService always says about itself. */
export function localAvailableCondition(now = new Date()): Condition {
  return { type: AVAILABLE, status: 'True', lastTransitionTime: rfc3339(now), reason: 'Local', message: 'Local APIServices are always available' };
}

export function availableCondition(obj: any): Condition | undefined {
  const conds = Array.isArray(obj?.status?.conditions) ? obj.status.conditions : [];
  return conds.find((c: any) => c?.type === AVAILABLE);
}

export function isAvailable(obj: any): boolean {
  return availableCondition(obj)?.status === 'True';
}

/**
 * Sets a condition as upstream's SetAPIServiceCondition: replaces the one of its type, keeping the
 * old transition time when the status did not change. Returns the new status (the input is not changed).
 */
export function withCondition(status: any, c: Condition): any {
  const conds: any[] = Array.isArray(status?.conditions) ? status.conditions : [];
  const old = conds.find((x) => x?.type === c.type);
  const next = { ...c };
  if (old && old.status === c.status && old.lastTransitionTime) next.lastTransitionTime = old.lastTransitionTime;
  return { ...(status ?? {}), conditions: [...conds.filter((x) => x?.type !== c.type), next] };
}

/** Same condition, ignoring the transition time. */
export function sameCondition(a: Condition | undefined, b: Condition | undefined): boolean {
  return !!a && !!b && a.status === b.status && (a.reason ?? '') === (b.reason ?? '') && (a.message ?? '') === (b.message ?? '');
}

/** spec.service with upstream's default port, or undefined for a local APIService. */
export function serviceRefOf(obj: any): ServiceRef | undefined {
  const s = obj?.spec?.service;
  if (s === null || typeof s !== 'object' || Array.isArray(s)) return undefined;
  return { namespace: String(s.namespace ?? ''), name: String(s.name ?? ''), port: typeof s.port === 'number' ? s.port : 443 };
}

/** v1 defaulting: service.port 443. */
export function defaultAPIService(obj: any): void {
  const s = obj?.spec?.service;
  if (s !== null && typeof s === 'object' && !Array.isArray(s) && (s.port === undefined || s.port === null)) s.port = 443;
}

/** Upstream's priorities for built-in group/versions (group minimum, version), from kube-apiserver's table. */
const PRIORITIES: Record<string, [number, number]> = {
  '/v1': [18000, 1],
  'apiregistration.k8s.io/v1': [18000, 15],
  'apps/v1': [17800, 15],
  'events.k8s.io/v1': [17750, 15],
  'authentication.k8s.io/v1': [17700, 15],
  'authorization.k8s.io/v1': [17600, 15],
  'autoscaling/v1': [17500, 15],
  'autoscaling/v2': [17500, 30],
  'batch/v1': [17400, 15],
  'certificates.k8s.io/v1': [17300, 15],
  'networking.k8s.io/v1': [17200, 15],
  'policy/v1': [17100, 15],
  'rbac.authorization.k8s.io/v1': [17000, 15],
  'storage.k8s.io/v1': [16800, 15],
  'apiextensions.k8s.io/v1': [16700, 15],
  'admissionregistration.k8s.io/v1': [16700, 15],
  'scheduling.k8s.io/v1': [16600, 15],
  'coordination.k8s.io/v1': [16500, 15],
  'node.k8s.io/v1': [16300, 15],
  'discovery.k8s.io/v1': [16200, 15],
  'flowcontrol.apiserver.k8s.io/v1': [16100, 21],
  // metrics-server's own APIService asks for these; Skiff's built-in metrics API uses the same.
  'metrics.k8s.io/v1beta1': [100, 100],
};

/** A served group/version's [groupPriorityMinimum, versionPriority]: upstream's table, else what CRD groups get. */
export function localPriority(group: string, version: string): [number, number] {
  return PRIORITIES[`${group}/${version}`] ?? [1000, 100];
}

/**
 * The local APIService for a group/version. Groups upstream has no priority for (CRD groups) get
 * what upstream's CRD registration gives them: 1000 for the group, 100 for the version.
 */
export function localAPIService(group: string, version: string, automanaged: 'onstart' | 'true'): any {
  const [gpm, vp] = localPriority(group, version);
  return {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: `${version}.${group}`, labels: { [AUTOMANAGED_LABEL]: automanaged } },
    spec: { group, version, groupPriorityMinimum: gpm, versionPriority: vp },
  };
}
