import type { AnyPlugin, CycleState, StateData } from '../../interface.js';
import { compileNodeSelector, compileNodeSelectorTerm, type NodeMatcher } from '../../labels.js';
import type { PodInfo } from '../../podinfo.js';
import { Status } from '../../status.js';
import { MAX_NODE_SCORE, type Node, type NodeSelector, type PreferredSchedulingTerm } from '../../types.js';
import { defaultNormalizeScore } from '../helper/normalize.js';

export const ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const ERR_ADDED_AFFINITY = "node(s) didn't match scheduler-enforced node affinity";

export interface NodeAffinityArgs {
  addedAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector; preferredDuringSchedulingIgnoredDuringExecution?: PreferredSchedulingTerm[] };
}

interface Compiled {
  required?: NodeMatcher;
  preferred: { m: NodeMatcher; weight: number }[];
}

const memo = new WeakMap<PodInfo, Compiled>();

/** nodeSelector and required node affinity terms as one predicate; preferred terms with weights. */
export function compilePodNodeAffinity(pi: PodInfo): Compiled {
  let c = memo.get(pi);
  if (c) return c;
  const sel = pi.pod.spec?.nodeSelector;
  const req = pi.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const parts: NodeMatcher[] = [];
  if (sel && Object.keys(sel).length) {
    const entries = Object.entries(sel);
    parts.push((n) => {
      const l = n.metadata?.labels;
      if (!l) return false;
      for (const [k, v] of entries) if (l[k] !== v) return false;
      return true;
    });
  }
  if (req) parts.push(compileNodeSelector(req.nodeSelectorTerms));
  const pref = pi.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  c = {
    required: parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : (n) => parts[0](n) && parts[1](n),
    preferred: pref.filter((p) => p.weight !== 0).map((p) => ({ m: compileNodeSelectorTerm(p.preference), weight: p.weight })),
  };
  memo.set(pi, c);
  return c;
}

/** Whether the pod's nodeSelector and required node affinity admit the node (used by other components too). */
export function podMatchesNodeAffinity(pi: PodInfo, node: Node): boolean {
  const r = compilePodNodeAffinity(pi).required;
  return !r || r(node);
}

class PreScoreState implements StateData {
  constructor(readonly preferred: { m: NodeMatcher; weight: number }[]) {}
  clone() {
    return this;
  }
}

const KEY = 'PreScoreNodeAffinity';

/** Nodes named by matchFields metadata.name In in every term: the only nodes that can fit. */
function nodeNamesFromTerms(pi: PodInfo): Set<string> | undefined {
  const terms = pi.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return undefined;
  const names = new Set<string>();
  for (const t of terms) {
    const f = (t.matchFields ?? []).find((f) => f.key === 'metadata.name' && f.operator === 'In');
    if (!f) return undefined;
    for (const v of f.values ?? []) names.add(v);
  }
  return names;
}

export function newNodeAffinity(args: NodeAffinityArgs = {}): AnyPlugin {
  const addedReq = args.addedAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const added = addedReq ? compileNodeSelector(addedReq.nodeSelectorTerms) : undefined;
  const addedPref = (args.addedAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => ({ m: compileNodeSelectorTerm(p.preference), weight: p.weight }));
  return {
    name: 'NodeAffinity',
    preFilter(_s, pi) {
      const c = compilePodNodeAffinity(pi);
      if (!c.required && !added) return { status: Status.skip() };
      const nodeNames = nodeNamesFromTerms(pi);
      return { status: null, result: nodeNames ? { nodeNames } : undefined };
    },
    filter(_s, pi, ni) {
      const node = ni.node!;
      if (added && !added(node)) return Status.unresolvable(ERR_ADDED_AFFINITY);
      const r = compilePodNodeAffinity(pi).required;
      if (r && !r(node)) return Status.unresolvable(ERR_NODE_AFFINITY);
      return null;
    },
    preScore(s: CycleState, pi) {
      const preferred = [...compilePodNodeAffinity(pi).preferred, ...addedPref];
      if (!preferred.length) return Status.skip();
      s.write(KEY, new PreScoreState(preferred));
      return null;
    },
    score(s, _pi, ni) {
      const st = s.read<PreScoreState>(KEY);
      if (!st) return 0;
      let total = 0;
      for (const p of st.preferred) if (p.m(ni.node!)) total += p.weight;
      return total;
    },
    normalize(_s, _pi, scores) {
      defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
    },
    events: () => [
      {
        resource: 'Node',
        actions: ['Add', 'UpdateNodeLabel'],
        // As upstream's isSchedulableAfterNodeChange: only a node that matches now and did not before.
        hint: (pi, oldNode: Node | undefined, newNode: Node) => {
          const matches = (n: Node) => (!added || added(n)) && podMatchesNodeAffinity(pi, n);
          if (!matches(newNode)) return 'QueueSkip';
          return !oldNode || !matches(oldNode) ? 'Queue' : 'QueueSkip';
        },
      },
    ],
  };
}
