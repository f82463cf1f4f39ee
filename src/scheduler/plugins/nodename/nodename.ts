import type { AnyPlugin } from '../../interface.js';
import { Status } from '../../status.js';

export const ERR_NODE_NAME = "node(s) didn't match the requested node name";

/** A pod that names its node fits only there. */
export function newNodeName(): AnyPlugin {
  return {
    name: 'NodeName',
    filter(_s, pi, ni) {
      const want = pi.pod.spec?.nodeName;
      if (!want || want === ni.name) return null;
      return Status.unresolvable(ERR_NODE_NAME);
    },
    events: () => [{ resource: 'Node', actions: ['Add'] }],
  };
}
