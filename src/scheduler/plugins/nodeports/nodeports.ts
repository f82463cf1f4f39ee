import type { AnyPlugin } from '../../interface.js';
import { Status } from '../../status.js';

export const ERR_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

/** Host ports must be free on the node (0.0.0.0 collides with every IP). */
export function newNodePorts(): AnyPlugin {
  return {
    name: 'NodePorts',
    preFilter(_s, pi) {
      return { status: pi.hostPorts.length ? null : Status.skip() };
    },
    filter(_s, pi, ni) {
      for (const hp of pi.hostPorts) if (ni.portConflict(hp)) return Status.unschedulable(ERR_NODE_PORTS);
      return null;
    },
    events: () => [
      { resource: 'AssignedPod', actions: ['Delete'] },
      { resource: 'Node', actions: ['Add'] },
    ],
  };
}
