import type { LabelSelector, NodeSelectorRequirement, NodeSelectorTerm, Node } from './types.js';

export type Labels = Record<string, string> | undefined;
export type Matcher = (labels: Labels) => boolean;

const everything: Matcher = () => true;
const nothing: Matcher = () => false;

function requirement(key: string, op: string, values: string[] | undefined): Matcher {
  const vs = values ?? [];
  switch (op) {
    case 'In': {
      if (vs.length === 1) {
        const v0 = vs[0];
        return (l) => l !== undefined && l[key] === v0;
      }
      const set = new Set(vs);
      return (l) => l !== undefined && key in l && set.has(l[key]);
    }
    case 'NotIn': {
      const set = new Set(vs);
      return (l) => l === undefined || !(key in l) || !set.has(l[key]);
    }
    case 'Exists':
      return (l) => l !== undefined && key in l;
    case 'DoesNotExist':
      return (l) => l === undefined || !(key in l);
    case 'Gt':
    case 'Lt': {
      const bound = Number(vs[0]);
      if (vs.length !== 1 || !Number.isInteger(bound)) return nothing;
      return (l) => {
        if (l === undefined || !(key in l)) return false;
        const n = Number(l[key]);
        if (!Number.isInteger(n)) return false;
        return op === 'Gt' ? n > bound : n < bound;
      };
    }
    default:
      return nothing;
  }
}

function all(ms: Matcher[]): Matcher {
  if (ms.length === 0) return everything;
  if (ms.length === 1) return ms[0];
  return (l) => {
    for (const m of ms) if (!m(l)) return false;
    return true;
  };
}

/**
 * A metav1.LabelSelector as a predicate, as LabelSelectorAsSelector: an empty selector matches
 * everything, a missing one (null/undefined) nothing.
 */
export function compileLabelSelector(sel: LabelSelector | null | undefined): Matcher {
  if (!sel) return nothing;
  const ms: Matcher[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) ms.push(requirement(k, 'In', [v]));
  for (const e of sel.matchExpressions ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) return nothing;
    ms.push(requirement(e.key, e.operator, e.values));
  }
  return all(ms);
}

/** True when the selector has no requirements (matches every object). */
export function isEmptySelector(sel: LabelSelector | null | undefined): boolean {
  return !!sel && !Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length;
}

export function compileNodeSelectorRequirements(reqs: NodeSelectorRequirement[] | undefined): Matcher {
  return all((reqs ?? []).map((r) => requirement(r.key, r.operator, r.values)));
}

export type NodeMatcher = (node: Node) => boolean;

/** One NodeSelectorTerm; a term with no requirements matches no node, as upstream. */
export function compileNodeSelectorTerm(t: NodeSelectorTerm): NodeMatcher {
  const exprs = t.matchExpressions ?? [];
  const fields = t.matchFields ?? [];
  if (!exprs.length && !fields.length) return () => false;
  const lm = compileNodeSelectorRequirements(exprs);
  const fms = fields.map((f) => (f.key === 'metadata.name' ? requirement('metadata.name', f.operator, f.values) : nothing));
  const fm = all(fms);
  if (!fields.length) return (n) => lm(n.metadata?.labels);
  return (n) => lm(n.metadata?.labels) && fm({ 'metadata.name': n.metadata?.name ?? '' });
}

/** A NodeSelector: its terms are ORed. */
export function compileNodeSelector(terms: NodeSelectorTerm[] | undefined): NodeMatcher {
  const ms = (terms ?? []).map(compileNodeSelectorTerm);
  return (n) => {
    for (const m of ms) if (m(n)) return true;
    return false;
  };
}
