/**
 * autoscaling/v2 HorizontalPodAutoscaler defaults (upstream pkg/apis/autoscaling/v2/defaults.go).
 * Objects are stored as v2, and v1 writes are converted first, so v1's only default (minReplicas 1)
 * is covered too.
 */

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const DEFAULT_CPU_UTILIZATION = 80;

/** Scale-up rules: react at once, take the larger of 4 pods or 100% per 15 s. */
function defaultScaleUp(r: any): any {
  const out = isObj(r) ? r : {};
  out.stabilizationWindowSeconds ??= 0;
  out.selectPolicy ??= 'Max';
  if (out.policies === undefined || out.policies === null) {
    out.policies = [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ];
  }
  return out;
}

/** Scale-down rules: up to 100% per 15 s; the window stays unset (the controller's flag decides). */
function defaultScaleDown(r: any): any {
  const out = isObj(r) ? r : {};
  out.selectPolicy ??= 'Max';
  if (out.policies === undefined || out.policies === null) out.policies = [{ type: 'Percent', value: 100, periodSeconds: 15 }];
  return out;
}

export function defaultHorizontalPodAutoscaler(hpa: any): void {
  if (!isObj(hpa.spec)) return;
  const spec = hpa.spec;
  if (spec.minReplicas === undefined || spec.minReplicas === null) spec.minReplicas = 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  if (isObj(spec.behavior)) {
    spec.behavior.scaleUp = defaultScaleUp(spec.behavior.scaleUp);
    spec.behavior.scaleDown = defaultScaleDown(spec.behavior.scaleDown);
  }
}
