import type { AnyPlugin } from '../../interface.js';
import { Status } from '../../status.js';

/** Keeps pods with spec.schedulingGates out of the active queue until the gates are removed. */
export function newSchedulingGates(): AnyPlugin {
  return {
    name: 'SchedulingGates',
    preEnqueue(pod) {
      const gates = pod.spec?.schedulingGates ?? [];
      if (!gates.length) return null;
      return Status.unresolvable(`waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`);
    },
    events: () => [{ resource: 'Pod', actions: ['UpdatePodSchedulingGates'] }],
  };
}
