/**
 * autoscaling/v1 ↔ autoscaling/v2 HorizontalPodAutoscaler, as upstream's pkg/apis/autoscaling/v1
 * conversion: v1 carries only the CPU utilization target and current value; everything else that
 * v2 can say travels in annotations, as v1-shaped JSON (the older MetricSpec/MetricStatus shapes),
 * so that an object written in one version and read in the other round-trips.
 */

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';

/** The target v1 converts a v2 object without metrics to (DefaultCPUUtilization). */
export const DEFAULT_CPU_UTILIZATION = 80;

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** Drops undefined members, keeping key order (the order Go's encoder writes struct fields in). */
function compact<T extends Record<string, any>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function isCPUUtilizationSpec(m: any): boolean {
  return m?.type === 'Resource' && isObj(m.resource) && m.resource.name === 'cpu' && m.resource.target?.averageUtilization !== undefined && m.resource.target?.averageUtilization !== null;
}

// ---- v2 → v1 shapes (annotation content) -------------------------------------------------------

function metricSpecToV1(m: any): any {
  const out: any = { type: m?.type };
  const o = m?.object;
  if (isObj(o)) {
    out.object = compact({
      target: compact({ kind: o.describedObject?.kind ?? '', name: o.describedObject?.name ?? '', apiVersion: o.describedObject?.apiVersion }),
      metricName: o.metric?.name ?? '',
      targetValue: o.target?.value ?? '0',
      selector: o.metric?.selector,
      averageValue: o.target?.averageValue,
    });
  }
  const p = m?.pods;
  if (isObj(p)) out.pods = compact({ metricName: p.metric?.name ?? '', targetAverageValue: p.target?.averageValue ?? '0', selector: p.metric?.selector });
  const r = m?.resource;
  if (isObj(r)) out.resource = compact({ name: r.name ?? '', targetAverageUtilization: r.target?.averageUtilization, targetAverageValue: r.target?.averageValue });
  const c = m?.containerResource;
  if (isObj(c)) {
    out.containerResource = compact({ name: c.name ?? '', targetAverageUtilization: c.target?.averageUtilization, targetAverageValue: c.target?.averageValue, container: c.container ?? '' });
  }
  const e = m?.external;
  if (isObj(e)) {
    out.external = compact({ metricName: e.metric?.name ?? '', metricSelector: e.metric?.selector, targetValue: e.target?.value, targetAverageValue: e.target?.averageValue });
  }
  return out;
}

function metricStatusToV1(m: any): any {
  const out: any = { type: m?.type };
  const o = m?.object;
  if (isObj(o)) {
    out.object = compact({
      target: compact({ kind: o.describedObject?.kind ?? '', name: o.describedObject?.name ?? '', apiVersion: o.describedObject?.apiVersion }),
      metricName: o.metric?.name ?? '',
      currentValue: o.current?.value ?? '0',
      selector: o.metric?.selector,
      averageValue: o.current?.averageValue,
    });
  }
  const p = m?.pods;
  if (isObj(p)) out.pods = compact({ metricName: p.metric?.name ?? '', currentAverageValue: p.current?.averageValue ?? '0', selector: p.metric?.selector });
  const r = m?.resource;
  if (isObj(r)) out.resource = compact({ name: r.name ?? '', currentAverageUtilization: r.current?.averageUtilization, currentAverageValue: r.current?.averageValue ?? '0' });
  const c = m?.containerResource;
  if (isObj(c)) {
    out.containerResource = compact({ name: c.name ?? '', currentAverageUtilization: c.current?.averageUtilization, currentAverageValue: c.current?.averageValue ?? '0', container: c.container ?? '' });
  }
  const e = m?.external;
  if (isObj(e)) {
    out.external = compact({ metricName: e.metric?.name ?? '', metricSelector: e.metric?.selector, currentValue: e.current?.value ?? '0', currentAverageValue: e.current?.averageValue });
  }
  return out;
}

// ---- v1 shapes → v2 ----------------------------------------------------------------------------

function metricSpecFromV1(m: any): any {
  const out: any = { type: m?.type };
  const o = m?.object;
  if (isObj(o)) {
    out.object = {
      describedObject: compact({ kind: o.target?.kind ?? '', name: o.target?.name ?? '', apiVersion: o.target?.apiVersion }),
      target: compact({ type: o.averageValue === undefined || o.averageValue === null ? 'Value' : 'AverageValue', value: o.targetValue ?? '0', averageValue: o.averageValue ?? undefined }),
      metric: compact({ name: o.metricName ?? '', selector: o.selector ?? undefined }),
    };
  }
  const p = m?.pods;
  if (isObj(p)) {
    out.pods = {
      metric: compact({ name: p.metricName ?? '', selector: p.selector ?? undefined }),
      target: { type: 'AverageValue', averageValue: p.targetAverageValue ?? '0' },
    };
  }
  const r = m?.resource;
  if (isObj(r)) out.resource = { name: r.name ?? '', target: resourceTargetFromV1(r) };
  const c = m?.containerResource;
  if (isObj(c)) out.containerResource = { name: c.name ?? '', target: resourceTargetFromV1(c), container: c.container ?? '' };
  const e = m?.external;
  if (isObj(e)) {
    const hasValue = e.targetValue !== undefined && e.targetValue !== null;
    out.external = {
      metric: compact({ name: e.metricName ?? '', selector: e.metricSelector ?? undefined }),
      target: compact({ type: hasValue ? 'Value' : 'AverageValue', value: e.targetValue ?? undefined, averageValue: e.targetAverageValue ?? undefined }),
    };
  }
  return out;
}

function resourceTargetFromV1(r: any): any {
  const util = r.targetAverageUtilization ?? undefined;
  return compact({ type: util === undefined ? 'AverageValue' : 'Utilization', averageUtilization: util, averageValue: r.targetAverageValue ?? undefined });
}

function metricStatusFromV1(m: any): any {
  const out: any = { type: m?.type };
  const o = m?.object;
  if (isObj(o)) {
    out.object = {
      metric: compact({ name: o.metricName ?? '', selector: o.selector ?? undefined }),
      current: compact({ value: o.currentValue ?? '0', averageValue: o.averageValue ?? undefined }),
      describedObject: compact({ kind: o.target?.kind ?? '', name: o.target?.name ?? '', apiVersion: o.target?.apiVersion }),
    };
  }
  const p = m?.pods;
  if (isObj(p)) out.pods = { metric: compact({ name: p.metricName ?? '', selector: p.selector ?? undefined }), current: { averageValue: p.currentAverageValue ?? '0' } };
  const r = m?.resource;
  if (isObj(r)) out.resource = { name: r.name ?? '', current: compact({ averageValue: r.currentAverageValue ?? '0', averageUtilization: r.currentAverageUtilization ?? undefined }) };
  const c = m?.containerResource;
  if (isObj(c)) {
    out.containerResource = { name: c.name ?? '', current: compact({ averageValue: c.currentAverageValue ?? '0', averageUtilization: c.currentAverageUtilization ?? undefined }), container: c.container ?? '' };
  }
  const e = m?.external;
  if (isObj(e)) {
    out.external = { metric: compact({ name: e.metricName ?? '', selector: e.metricSelector ?? undefined }), current: compact({ value: e.currentValue ?? '0', averageValue: e.currentAverageValue ?? undefined }) };
  }
  return out;
}

/** Parses an annotation's JSON array; upstream fails the decode on bad JSON, we report it. */
function parseAnnotation(value: string, name: string): any {
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new ConversionError(`${name}: ${(e as Error).message}`);
  }
}

export class ConversionError extends Error {}

// ---- whole objects -----------------------------------------------------------------------------

/** autoscaling/v2 (storage) → autoscaling/v1. Does not change its argument's nested objects. */
export function hpaV2ToV1(obj: any): any {
  const spec = isObj(obj?.spec) ? obj.spec : {};
  const status = isObj(obj?.status) ? obj.status : undefined;
  const metadata = isObj(obj?.metadata) ? { ...obj.metadata } : obj?.metadata;

  const metrics = arr(spec.metrics);
  const other = metrics.filter((m) => !isCPUUtilizationSpec(m)).map(metricSpecToV1);
  const currentMetrics = arr(status?.currentMetrics);
  const conditions = arr(status?.conditions);
  const annotations: Record<string, string> = {};
  if (other.length) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(other);
  if (currentMetrics.length) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(currentMetrics.map(metricStatusToV1));
  if (conditions.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(conditions.map(conditionJSON));
  if (isObj(spec.behavior)) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(spec.behavior);
  if (Object.keys(annotations).length && isObj(metadata)) metadata.annotations = { ...metadata.annotations, ...annotations };

  const cpu = metrics.find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu');
  const v1spec = compact({
    scaleTargetRef: spec.scaleTargetRef,
    minReplicas: spec.minReplicas,
    maxReplicas: spec.maxReplicas ?? 0,
    targetCPUUtilizationPercentage: cpu?.resource?.target?.averageUtilization ?? undefined,
  });

  const out: any = { ...obj, apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata, spec: v1spec };
  if (status) {
    let currentCPU: number | undefined;
    for (const m of currentMetrics) {
      if (m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current?.averageUtilization !== undefined) currentCPU = m.resource.current.averageUtilization;
    }
    out.status = compact({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: currentCPU,
    });
  }
  return out;
}

function conditionJSON(c: any): any {
  return compact({ type: c?.type, status: c?.status, lastTransitionTime: c?.lastTransitionTime ?? null, reason: c?.reason || undefined, message: c?.message || undefined });
}

/** autoscaling/v1 → autoscaling/v2 (storage): the annotations are consumed. */
export function hpaV1ToV2(obj: any): any {
  const spec = isObj(obj?.spec) ? obj.spec : {};
  const status = isObj(obj?.status) ? obj.status : undefined;
  const metadata = isObj(obj?.metadata) ? { ...obj.metadata } : obj?.metadata;
  const ann: Record<string, string> = isObj(metadata?.annotations) ? { ...metadata.annotations } : {};

  let metrics: any[] = [];
  const cpu = spec.targetCPUUtilizationPercentage;
  const cpuMetric = cpu === undefined || cpu === null ? undefined : { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } };
  if (typeof ann[METRIC_SPECS_ANNOTATION] === 'string') {
    metrics = arr(parseAnnotation(ann[METRIC_SPECS_ANNOTATION], METRIC_SPECS_ANNOTATION)).map(metricSpecFromV1);
    delete ann[METRIC_SPECS_ANNOTATION];
  }
  if (cpuMetric) metrics.push(cpuMetric);
  // v1 once had the CPU default in the controller; v2 spells it out.
  if (!metrics.length) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];

  let behavior: any;
  if (typeof ann[BEHAVIOR_ANNOTATION] === 'string') {
    behavior = parseAnnotation(ann[BEHAVIOR_ANNOTATION], BEHAVIOR_ANNOTATION);
    delete ann[BEHAVIOR_ANNOTATION];
  }

  let v2status: any;
  if (status || typeof ann[METRIC_STATUSES_ANNOTATION] === 'string' || typeof ann[CONDITIONS_ANNOTATION] === 'string') {
    const s = status ?? {};
    v2status = compact({
      observedGeneration: s.observedGeneration,
      lastScaleTime: s.lastScaleTime,
      currentReplicas: s.currentReplicas ?? 0,
      desiredReplicas: s.desiredReplicas ?? 0,
      currentMetrics: undefined as any,
      conditions: undefined as any,
    });
    if (s.currentCPUUtilizationPercentage !== undefined && s.currentCPUUtilizationPercentage !== null) {
      v2status.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: s.currentCPUUtilizationPercentage } } }];
    }
    if (typeof ann[METRIC_STATUSES_ANNOTATION] === 'string') {
      // The annotation says more than currentCPUUtilizationPercentage: it wins.
      v2status.currentMetrics = arr(parseAnnotation(ann[METRIC_STATUSES_ANNOTATION], METRIC_STATUSES_ANNOTATION)).map(metricStatusFromV1);
      delete ann[METRIC_STATUSES_ANNOTATION];
    }
    if (typeof ann[CONDITIONS_ANNOTATION] === 'string') {
      v2status.conditions = arr(parseAnnotation(ann[CONDITIONS_ANNOTATION], CONDITIONS_ANNOTATION)).map(conditionJSON);
      delete ann[CONDITIONS_ANNOTATION];
    }
    if (!v2status.currentMetrics) delete v2status.currentMetrics;
    if (!v2status.conditions) delete v2status.conditions;
  }

  if (isObj(metadata)) {
    if (Object.keys(ann).length) metadata.annotations = ann;
    else delete metadata.annotations;
  }
  const out: any = {
    ...obj,
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: compact({ scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas ?? undefined, maxReplicas: spec.maxReplicas, metrics, behavior }),
  };
  if (v2status) out.status = v2status;
  else delete out.status;
  return out;
}
