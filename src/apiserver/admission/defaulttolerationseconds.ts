import type { AdmissionPlugin } from './types.js';
import { isPodCreate } from './util.js';

const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

/** DefaultTolerationSeconds: pods tolerate not-ready/unreachable NoExecute taints for 300 s unless they say otherwise. */
export function defaultTolerationSecondsPlugin(seconds = { notReady: 300, unreachable: 300 }): AdmissionPlugin {
  return {
    name: 'DefaultTolerationSeconds',
    handles: isPodCreate,
    admit(req) {
      const spec = (req.object.spec ??= {});
      const tols: any[] = spec.tolerations ?? [];
      const covers = (key: string) => tols.some((t) => (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
      const add: any[] = [];
      if (!covers(NOT_READY)) add.push({ key: NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds.notReady });
      if (!covers(UNREACHABLE)) add.push({ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds.unreachable });
      if (add.length) spec.tolerations = [...tols, ...add];
    },
  };
}
