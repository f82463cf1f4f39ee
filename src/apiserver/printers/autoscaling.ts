/** autoscaling HorizontalPodAutoscalers, with upstream's columns (printHorizontalPodAutoscaler). */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, int, str } from './common.js';
import { formatAge } from './duration.js';
import { formatQuantity } from './quantity.js';
import { hpaV1ToV2 } from '../hpa/conversion.js';

const q = (v: unknown) => formatQuantity(v);
const has = (v: unknown) => v !== undefined && v !== null;

/** The TARGETS cell: "current/target" per metric, the first two shown, as upstream's formatHPAMetrics. */
export function formatHPAMetrics(specs: unknown, statuses: unknown): string {
  const sp = Array.isArray(specs) ? specs : [];
  const st = Array.isArray(statuses) ? statuses : [];
  if (!sp.length) return '<none>';
  const list: string[] = [];
  sp.forEach((spec: any, i: number) => {
    const s: any = st[i];
    switch (spec?.type) {
      case 'External':
      case 'Object': {
        const key = spec.type === 'External' ? 'external' : 'object';
        const target = spec[key]?.target ?? {};
        const cur = s?.[key]?.current;
        if (has(target.averageValue)) {
          const current = has(cur?.averageValue) ? q(cur.averageValue) : '<unknown>';
          list.push(`${current}/${q(target.averageValue)} (avg)`);
        } else {
          const current = s?.[key] ? q(cur?.value ?? '0') : '<unknown>';
          list.push(`${current}/${q(target.value ?? '0')}`);
        }
        break;
      }
      case 'Pods': {
        const current = s?.pods ? q(s.pods.current?.averageValue ?? '0') : '<unknown>';
        list.push(`${current}/${q(spec.pods?.target?.averageValue ?? '0')}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const src = spec[key] ?? {};
        const name = str(src.name);
        if (has(src.target?.averageValue)) {
          const current = s?.[key] ? q(s[key].current?.averageValue ?? '0') : '<unknown>';
          list.push(`${name}: ${current}/${q(src.target.averageValue)}`);
        } else {
          const current = has(s?.[key]?.current?.averageUtilization) ? `${s[key].current.averageUtilization}%` : '<unknown>';
          const target = has(src.target?.averageUtilization) ? `${src.target.averageUtilization}%` : '<auto>';
          list.push(`${name}: ${current}/${target}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

export const horizontalPodAutoscalerPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Reference', 'string', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
    col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.'),
    col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.'),
    col('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.'),
    col('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
    AGE_COLUMN,
  ],
  cells(h: any, now: Date): unknown[] {
    const spec = h?.spec ?? {};
    const ref = `${str(spec.scaleTargetRef?.kind)}/${str(spec.scaleTargetRef?.name)}`;
    const min = has(spec.minReplicas) ? String(int(spec.minReplicas)) : '<unset>';
    return [str(h?.metadata?.name), ref, formatHPAMetrics(spec.metrics, h?.status?.currentMetrics), min, int(spec.maxReplicas), int(h?.status?.currentReplicas), formatAge(h?.metadata?.creationTimestamp, now)];
  },
};

/** autoscaling/v1 objects are printed from their v2 form, as upstream prints the internal version. */
export const horizontalPodAutoscalerV1Printer: Printer = {
  columns: horizontalPodAutoscalerPrinter.columns,
  cells(h: any, now: Date): unknown[] {
    let v2 = h;
    try {
      v2 = hpaV1ToV2(h);
    } catch {
      // A bad annotation: print what v1 says.
    }
    return horizontalPodAutoscalerPrinter.cells(v2, now);
  },
};
