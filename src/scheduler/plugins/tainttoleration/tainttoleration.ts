import type { AnyPlugin, CycleState, StateData } from '../../interface.js';
import { Status } from '../../status.js';
import { MAX_NODE_SCORE, type Node, type Toleration } from '../../types.js';
import { defaultNormalizeScore } from '../helper/normalize.js';
import { findUntoleratedTaint, tolerated } from '../helper/taints.js';

const hard = (e: string) => e === 'NoSchedule' || e === 'NoExecute';

class PreScoreState implements StateData {
  constructor(readonly tolerations: Toleration[]) {}
  clone() {
    return this;
  }
}
const KEY = 'PreScoreTaintToleration';

/**
 * NoSchedule/NoExecute taints the pod does not tolerate rule a node out; untolerated
 * PreferNoSchedule taints lower its score.
 */
export function newTaintToleration(): AnyPlugin {
  return {
    name: 'TaintToleration',
    filter(_s, pi, ni) {
      const taint = findUntoleratedTaint(ni.node?.spec?.taints, pi.pod.spec?.tolerations, hard);
      if (!taint) return null;
      return Status.unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
    },
    preScore(s: CycleState, pi) {
      // Only tolerations that can tolerate PreferNoSchedule matter for scoring.
      const tols = (pi.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
      s.write(KEY, new PreScoreState(tols));
      return null;
    },
    score(s, _pi, ni) {
      const taints = ni.node?.spec?.taints;
      if (!taints) return 0;
      const tols = s.read<PreScoreState>(KEY)?.tolerations ?? [];
      let n = 0;
      for (const t of taints) if (t.effect === 'PreferNoSchedule' && !tolerated(t, tols)) n++;
      return n;
    },
    normalize(_s, _pi, scores) {
      defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
    },
    events: () => [
      {
        resource: 'Node',
        actions: ['Add', 'UpdateNodeTaint'],
        // As upstream: only when the node went from an untolerated taint to none.
        hint: (pi, oldNode: Node | undefined, newNode: Node) => {
          const tols = pi.pod.spec?.tolerations;
          const was = oldNode ? !!findUntoleratedTaint(oldNode.spec?.taints, tols, hard) : true;
          const is = !!findUntoleratedTaint(newNode.spec?.taints, tols, hard);
          return was && !is ? 'Queue' : 'QueueSkip';
        },
      },
      { resource: 'Pod', actions: ['UpdatePodTolerations'] },
    ],
  };
}
