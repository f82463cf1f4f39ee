import type { AnyPlugin } from '../../interface.js';
import { newPodInfo, type HostPort } from '../../podinfo.js';
import type { Pod } from '../../types.js';
import { Status } from '../../status.js';

export const ERR_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

/** Same protocol and port, and the same IP or either one the wildcard. */
export function portsCollide(a: HostPort, b: HostPort): boolean {
  return a.protocol === b.protocol && a.port === b.port && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0');
}

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
      {
        resource: 'AssignedPod',
        actions: ['Delete'],
        // As upstream: only the deletion of a pod holding one of the ports this pod wants.
        hint: (pi, deleted: Pod) => {
          const held = newPodInfo(deleted).hostPorts;
          return pi.hostPorts.some((w) => held.some((h) => portsCollide(w, h))) ? 'Queue' : 'QueueSkip';
        },
      },
      { resource: 'Node', actions: ['Add'] },
    ],
  };
}
