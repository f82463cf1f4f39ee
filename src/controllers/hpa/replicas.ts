/**
 * The replica calculator, as upstream's replica_calculator.go and its resource metrics client, as
 * pure functions: the caller hands in the pods (from the informer), the PodMetrics (from
 * metrics.k8s.io) and the time; nothing here does I/O. Values are milli-units (MilliValue()).
 */
import { SkiffError } from '../../util/errors.js';
import { milliValue } from './quantity.js';

/** Its message is what upstream puts in events and conditions, word for word. */
export class ReplicaCalcError extends SkiffError {
  constructor(message: string) {
    super('HPA_METRICS', message);
  }
}

export interface PodMetric {
  /** Milli-units: millicores for cpu, thousandths of bytes for memory. */
  value: number;
  timestamp: number;
  windowMs: number;
}

/** Pod name → its metric. */
export type PodMetricsInfo = Map<string, PodMetric>;

export interface CalcOptions {
  /** Changes within this fraction of the target do nothing (--horizontal-pod-autoscaler-tolerance). */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period. */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay. */
  delayOfInitialReadinessStatusMs: number;
  now: number;
}

export const DEFAULT_TOLERANCE = 0.1;
export const DEFAULT_CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
export const DEFAULT_INITIAL_READINESS_DELAY_MS = 30_000;

const ts = (s: string | undefined): number => (s ? Date.parse(s) : NaN);

/** Go's time.ParseDuration for the few forms metrics windows take ("30s", "1m0.5s", "15.003s", "500ms"). */
export function parseGoDuration(s: string | undefined): number {
  if (!s) return 0;
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  for (let m = re.exec(s); m; m = re.exec(s)) ms += Number(m[1]) * unit[m[2]];
  return ms;
}

/**
 * Pod metrics for one resource from a PodMetricsList, as upstream's resource metrics client: a
 * pod's value is the sum over its containers (skipped if any container lacks the resource), or,
 * with `container`, that container's value (an error if a pod has no such container).
 */
export function podMetricsFromList(items: any[], resource: string, container?: string): { metrics: PodMetricsInfo; timestamp: number } {
  if (!items.length) throw new ReplicaCalcError('no metrics returned from resource metrics API');
  const metrics: PodMetricsInfo = new Map();
  for (const m of items) {
    const base = { timestamp: ts(m.timestamp), windowMs: parseGoDuration(m.window) };
    const containers: any[] = m.containers ?? [];
    if (container) {
      const c = containers.find((x) => x.name === container);
      if (!c) throw new ReplicaCalcError(`failed to get container metrics: container ${container} not present in metrics for pod ${m.metadata?.namespace}/${m.metadata?.name}`);
      const v = c.usage?.[resource];
      if (v !== undefined) metrics.set(m.metadata.name, { ...base, value: milliValue(v) });
      continue;
    }
    let sum = 0;
    let missing = containers.length === 0;
    for (const c of containers) {
      const v = c.usage?.[resource];
      if (v === undefined) {
        missing = true;
        break;
      }
      sum += milliValue(v);
    }
    if (!missing) metrics.set(m.metadata.name, { ...base, value: sum });
  }
  return { metrics, timestamp: ts(items[0].timestamp) };
}

function readyCondition(pod: any): any | undefined {
  return (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
}

export interface PodGroups {
  readyPodCount: number;
  unreadyPods: Set<string>;
  missingPods: Set<string>;
  ignoredPods: Set<string>;
}

/**
 * Sorts pods as upstream's groupPods: deleted and failed pods are ignored; pending ones count as
 * unready; pods without a metric are missing; for cpu, a pod that is not Ready, or still in its
 * initialization period with a sample from before it became Ready, is unready.
 */
export function groupPods(pods: any[], metrics: PodMetricsInfo, resource: string, o: Pick<CalcOptions, 'cpuInitializationPeriodMs' | 'delayOfInitialReadinessStatusMs' | 'now'>): PodGroups {
  const g: PodGroups = { readyPodCount: 0, unreadyPods: new Set(), missingPods: new Set(), ignoredPods: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      g.ignoredPods.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      g.unreadyPods.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      g.missingPods.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const cond = readyCondition(pod);
      const start = ts(pod.status?.startTime);
      let unready: boolean;
      if (!cond || Number.isNaN(start)) unready = true;
      else {
        const transition = ts(cond.lastTransitionTime);
        if (start + o.cpuInitializationPeriodMs > o.now) {
          // Still initializing: skip it if unready, or if its sample may predate readiness.
          unready = cond.status === 'False' || metric.timestamp < transition + metric.windowMs;
        } else {
          // Skip it only if it is unready and has never been ready.
          unready = cond.status === 'False' && start + o.delayOfInitialReadinessStatusMs > transition;
        }
      }
      if (unready) {
        g.unreadyPods.add(name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

/** Per pod, the sum of its containers' and sidecars' requests (or the one container's), as upstream's calculatePodRequests. */
export function podRequests(pods: any[], container: string | undefined, resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    // Sidecars (restartable init containers) run alongside the app containers: they count too.
    const sidecars = (pod.spec?.initContainers ?? []).filter((c: any) => c.restartPolicy === 'Always');
    for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
      if (container && c.name !== container) continue;
      const r = c.resources?.requests?.[resource];
      if (r === undefined) throw new ReplicaCalcError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      sum += milliValue(r);
    }
    out.set(pod.metadata.name, sum);
  }
  return out;
}

/** Usage over requests of the pods that have both, against the target percentage (metricsclient.GetResourceUtilizationRatio). */
export function resourceUtilizationRatio(metrics: PodMetricsInfo, requests: Map<string, number>, targetUtilization: number): { ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let n = 0;
  for (const [pod, m] of metrics) {
    const r = requests.get(pod);
    if (r === undefined) continue; // a metric of a pod we don't know about
    metricsTotal += m.value;
    requestsTotal += r;
    n++;
  }
  if (requestsTotal === 0) throw new ReplicaCalcError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / n) };
}

/** Average usage against the target (metricsclient.GetMetricUsageRatio). */
export function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: number): { ratio: number; usage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / targetUsage, usage };
}

const removeAll = (m: PodMetricsInfo, names: Set<string>) => {
  for (const n of names) m.delete(n);
};

export interface UtilizationResult {
  replicas: number;
  /** Percent of requests, truncated. */
  utilization: number;
  /** Average milli-value per pod. */
  rawUtilization: number;
}

/**
 * Desired replicas for a Utilization target (GetResourceReplicas). Unready pods are left out, and
 * on a scale up counted as using nothing; pods without metrics count as using 100% of their request
 * (or the target if higher) on a scale down and nothing on a scale up; the result stays at
 * currentReplicas within the tolerance or when the filling-in flips the direction.
 */
export function resourceReplicas(currentReplicas: number, targetUtilization: number, resource: string, pods: any[], metricsIn: PodMetricsInfo, container: string | undefined, o: CalcOptions): UtilizationResult {
  if (!pods.length) throw new ReplicaCalcError('no pods returned by selector while calculating replica count');
  const metrics = new Map(metricsIn);
  const g = groupPods(pods, metrics, resource, o);
  removeAll(metrics, g.ignoredPods);
  removeAll(metrics, g.unreadyPods);
  const requests = podRequests(pods, container, resource);
  if (!metrics.size) throw new ReplicaCalcError('did not receive metrics for targeted pods (pods might be unready)');
  const { ratio, utilization, rawAverage } = resourceUtilizationRatio(metrics, requests, targetUtilization);
  const result = (replicas: number): UtilizationResult => ({ replicas, utilization, rawUtilization: rawAverage });

  const scaleUpWithUnready = g.unreadyPods.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && !g.missingPods.size) {
    if (Math.abs(1.0 - ratio) <= o.tolerance) return result(currentReplicas);
    return result(Math.ceil(ratio * g.readyPodCount));
  }
  if (g.missingPods.size) {
    if (ratio < 1.0) {
      const fallback = Math.max(100, targetUtilization);
      for (const p of g.missingPods) metrics.set(p, { value: Math.trunc(((requests.get(p) ?? 0) * fallback) / 100), timestamp: 0, windowMs: 0 });
    } else if (ratio > 1.0) {
      for (const p of g.missingPods) metrics.set(p, { value: 0, timestamp: 0, windowMs: 0 });
    }
  }
  if (scaleUpWithUnready) for (const p of g.unreadyPods) metrics.set(p, { value: 0, timestamp: 0, windowMs: 0 });

  const next = resourceUtilizationRatio(metrics, requests, targetUtilization).ratio;
  if (Math.abs(1.0 - next) <= o.tolerance || (ratio < 1.0 && next > 1.0) || (ratio > 1.0 && next < 1.0)) return result(currentReplicas);
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1.0 && replicas > currentReplicas) || (next > 1.0 && replicas < currentReplicas)) return result(currentReplicas);
  return result(replicas);
}

/** Desired replicas for an AverageValue target (GetRawResourceReplicas / calcPlainMetricReplicas). */
export function rawResourceReplicas(currentReplicas: number, targetUsage: number, resource: string, pods: any[], metricsIn: PodMetricsInfo, o: CalcOptions): { replicas: number; usage: number } {
  if (!pods.length) throw new ReplicaCalcError('no pods returned by selector while calculating replica count');
  const metrics = new Map(metricsIn);
  const g = groupPods(pods, metrics, resource, o);
  removeAll(metrics, g.ignoredPods);
  removeAll(metrics, g.unreadyPods);
  if (!metrics.size) throw new ReplicaCalcError('did not receive metrics for targeted pods (pods might be unready)');
  const { ratio, usage } = metricUsageRatio(metrics, targetUsage);

  const scaleUpWithUnready = g.unreadyPods.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && !g.missingPods.size) {
    if (Math.abs(1.0 - ratio) <= o.tolerance) return { replicas: currentReplicas, usage };
    return { replicas: Math.ceil(ratio * g.readyPodCount), usage };
  }
  if (g.missingPods.size) {
    // Upstream fills in the target on a scale down and zero otherwise.
    const fill = ratio < 1.0 ? targetUsage : 0;
    for (const p of g.missingPods) metrics.set(p, { value: fill, timestamp: 0, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const p of g.unreadyPods) metrics.set(p, { value: 0, timestamp: 0, windowMs: 0 });

  const next = metricUsageRatio(metrics, targetUsage).ratio;
  if (Math.abs(1.0 - next) <= o.tolerance || (ratio < 1.0 && next > 1.0) || (ratio > 1.0 && next < 1.0)) return { replicas: currentReplicas, usage };
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1.0 && replicas > currentReplicas) || (next > 1.0 && replicas < currentReplicas)) return { replicas: currentReplicas, usage };
  return { replicas, usage };
}
