import type { AnyPlugin } from '../../interface.js';
import { Status } from '../../status.js';
import { tolerated } from '../helper/taints.js';
import type { Node } from '../../types.js';

export const ERR_NODE_UNSCHEDULABLE = 'node(s) were unschedulable';
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** Rejects cordoned nodes (spec.unschedulable) unless the pod tolerates the unschedulable taint. */
export function newNodeUnschedulable(): AnyPlugin {
  return {
    name: 'NodeUnschedulable',
    filter(_s, pi, ni) {
      if (!ni.node) return Status.unresolvable('node not found');
      if (!ni.node.spec?.unschedulable) return null;
      if (tolerated(UNSCHEDULABLE_TAINT, pi.pod.spec?.tolerations)) return null;
      return Status.unresolvable(ERR_NODE_UNSCHEDULABLE);
    },
    events: () => [
      {
        resource: 'Node',
        actions: ['Add', 'UpdateNodeTaint'],
        // As upstream: only a node that became schedulable (or arrived schedulable) for this pod.
        hint: (pi, oldNode: Node | undefined, newNode: Node) => {
          const ok = (n: Node) => !n.spec?.unschedulable || tolerated(UNSCHEDULABLE_TAINT, pi.pod.spec?.tolerations);
          return ok(newNode) && (!oldNode || !ok(oldNode)) ? 'Queue' : 'QueueSkip';
        },
      },
    ],
  };
}
