import type { Attributes } from '../auth/types.js';

export type Level = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type Stage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';
const LEVELS: Level[] = ['None', 'Metadata', 'Request', 'RequestResponse'];

/** audit.k8s.io/v1 Policy (the fields upstream evaluates). */
export interface Policy {
  apiVersion?: string;
  kind?: string;
  omitStages?: Stage[];
  omitManagedFields?: boolean;
  rules: PolicyRule[];
}

export interface PolicyRule {
  level: Level;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: { group?: string; resources?: string[]; resourceNames?: string[] }[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

/** Checks a policy document, as upstream's validation does (unknown levels are refused). */
export function parsePolicy(doc: any): Policy {
  if (!doc || typeof doc !== 'object') throw new Error('audit policy must be an object');
  if (doc.kind && doc.kind !== 'Policy') throw new Error(`audit policy kind must be Policy, not ${doc.kind}`);
  if (!Array.isArray(doc.rules)) throw new Error('audit policy needs rules');
  for (const [i, r] of doc.rules.entries()) if (!LEVELS.includes(r?.level)) throw new Error(`rules[${i}].level: Unsupported value: ${JSON.stringify(r?.level)}`);
  return doc as Policy;
}

function resourceMatches(r: PolicyRule, a: Attributes): boolean {
  if (!r.resources?.length) return true;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? '';
  return r.resources.some((gr) => {
    if ((gr.group ?? '') !== (a.apiGroup ?? '')) return false;
    if (gr.resources?.length) {
      const ok = gr.resources.some((x) => x === combined || x === '*' || (x === `${a.resource}/*` && !!a.subresource) || (x === `*/${a.subresource}` && !!a.subresource));
      if (!ok) return false;
    }
    if (gr.resourceNames?.length && !gr.resourceNames.includes(a.name ?? '')) return false;
    return true;
  });
}

function ruleMatches(r: PolicyRule, a: Attributes): boolean {
  if (r.users?.length && !r.users.includes(a.user.name)) return false;
  if (r.userGroups?.length && !r.userGroups.some((g) => a.user.groups.includes(g))) return false;
  if (r.verbs?.length && !r.verbs.includes(a.verb)) return false;
  if (a.resourceRequest) {
    if (r.nonResourceURLs?.length) return false;
    if (r.namespaces?.length && !r.namespaces.includes(a.namespace ?? '')) return false;
    return resourceMatches(r, a);
  }
  if (r.resources?.length || r.namespaces?.length) return false;
  if (!r.nonResourceURLs?.length) return true;
  return r.nonResourceURLs.some((u) => u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
}

/** The first matching rule decides the level and omitted stages; no match means None, as upstream. */
export function evaluatePolicy(p: Policy, a: Attributes): { level: Level; omitStages: Stage[] } {
  for (const r of p.rules) {
    if (ruleMatches(r, a)) return { level: r.level, omitStages: [...(p.omitStages ?? []), ...(r.omitStages ?? [])] };
  }
  return { level: 'None', omitStages: [] };
}

export const atLeast = (l: Level, min: Level) => LEVELS.indexOf(l) >= LEVELS.indexOf(min);
